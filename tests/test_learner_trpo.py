"""Check ``trpo_pendulum`` (src/hrlmeta/experiments/learner_checks/check_trpo.py): the batched Pendulum-v1 is
gymnasium's, step for step; the check trains through the claims' TRPO code (hrlmeta.algos.maml:
meta_iteration -> rollout -> process -> trpo_step, no adaptation step); its rows are deterministic; the
claims hold and fail where they must on constructed tables; and the generalised rollout leaves the golden
tables of nav2d_finn and cartpole_meta unchanged."""

import platform
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from hrlmeta import claims as K
from hrlmeta.algos import maml as M
from hrlmeta.experiments import REGISTRY
from hrlmeta.experiments.learner_checks import training as LC
from hrlmeta.experiments.learner_checks import check_trpo as C


def _complete(algo: str, block: dict) -> dict:
    """A hand-built block of ``algo`` completed with the learner_checks schema's defaults, as the config loader
    hands it over (the check modules read every key)."""
    from hrlmeta.config import load_schema, schema_defaults

    return schema_defaults(block, load_schema("learner_checks", REGISTRY)["properties"][algo])


gym = pytest.importorskip("gymnasium")

SMOKE = _complete("trpo_pendulum", {
    "total_steps": 80, "eval_every": 40, "eval_episodes": 2, "eval_seed": 7, "device": "cpu",
    "env": {"horizon": 20}, "policy": {"hidden": [8, 8], "init_log_std": 0.0},
    "trpo": {"n_traj": 2, "max_kl": 0.01},
    "reference": {"mean": -605.7, "spread": 391.9, "n_runs": 25, "env_steps": 150000, "source": "test"}})
IDS = ("learner_trpo_pendulum", "learner_trpo_pendulum_kl", "learner_trpo_pendulum_surrogate")
DECLARED = {c["id"]: c for c in K.declared_claims(REGISTRY, check_measures=False) if c["id"] in IDS}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------------------------- the environment


def test_pendulum_is_gymnasiums_pendulum_v1_step_for_step():
    """Whole episodes from gymnasium's own resets, with torques inside and outside the bound: next states
    and observations bit for bit, rewards to 1e-9, and the time limit is the horizon."""
    env = C.Pendulum()
    rng = np.random.default_rng(0)
    g = gym.make("Pendulum-v1")
    assert g.spec.max_episode_steps == env.horizon == 200
    no_task = env.sample_goals(1, None)[:, None, :]
    for ep in range(4):
        obs, _ = g.reset(seed=ep)
        state = torch.tensor(g.unwrapped.state, dtype=torch.float64)[None]
        assert np.array_equal(env.observe(state)[0].numpy(), obs)
        for t in range(env.horizon):
            a = (3.0 * rng.standard_normal(1)).astype(np.float32)
            obs, r, terminated, truncated, _ = g.step(a)
            state, reward, done = env.step(state, torch.from_numpy(a)[None], no_task)
            assert np.array_equal(state[0].numpy(), g.unwrapped.state), (ep, t)
            assert np.array_equal(env.observe(state)[0].numpy(), obs), (ep, t)
            assert abs(float(reward[0]) - r) <= 1e-9, (ep, t)
            assert not bool(done[0]) and not terminated
            assert truncated == (t == env.horizon - 1)


def test_reset_draws_gymnasiums_start_box_from_the_given_stream():
    env = C.Pendulum()
    a = env.reset((3, 500), generator=torch.Generator().manual_seed(1))
    b = env.reset((3, 500), generator=torch.Generator().manual_seed(1))
    assert a.shape == (3, 500, 2) and a.dtype == torch.float64 and torch.equal(a, b)
    assert (a[..., 0].abs() <= np.pi).all() and (a[..., 1].abs() <= 1.0).all()
    assert a[..., 0].abs().max() > 3.0 and a[..., 1].abs().max() > 0.99  # fills the box
    assert env.sample_goals(4, None).shape == (4, 0)  # one task: no task parameters, no draws


def test_the_maml_rollout_over_pendulum_replays_in_gymnasium():
    """maml.rollout (noise first, then start states, from one stream) on Pendulum: every trajectory, replayed
    in gymnasium from its start state with its recorded (unclipped) actions, gives the same observations and
    rewards."""
    env = C.Pendulum()
    theta = M.init_policy(3, 1, (8,), torch.Generator().manual_seed(0), init_log_std=0.5)
    goals = env.sample_goals(1, None)
    batch = M.rollout(env, theta, goals, 3, torch.Generator().manual_seed(2))
    gen = torch.Generator().manual_seed(2)
    noise = torch.randn((1, 3, env.horizon, 1), generator=gen)
    start = env.reset((1, 3), generator=gen)
    again = M.rollout_with_noise(env, theta, goals, noise, start)
    assert torch.equal(batch.obs, again.obs) and torch.equal(batch.rew, again.rew)
    assert batch.obs.dtype == torch.float32 and (batch.mask == 1).all()
    assert (batch.act.abs() > env.max_torque).any()  # the clipping is exercised
    g = gym.make("Pendulum-v1").unwrapped
    for j in range(3):
        g.reset(seed=0)
        g.state = start[0, j].numpy().copy()
        for t in range(env.horizon):
            assert np.array_equal(g._get_obs(), batch.obs[0, j, t].numpy()), (j, t)
            _, r, *_ = g.step(batch.act[0, j, t].numpy())
            assert r == pytest.approx(float(batch.rew[0, j, t]), rel=1e-6, abs=1e-6)


# ------------------------------------------------------------------------------------- the code path


def test_the_check_trains_through_maml_meta_iteration_without_adaptation(monkeypatch):
    """Every update is maml.meta_iteration(adapt_steps=0): maml.rollout on the Pendulum family and
    maml.trpo_step with no pre-update batch, first order (the functions nav2d_finn's claims run)."""
    assert C.M is M
    calls = {"rollout": [], "trpo_step": [], "meta_iteration": []}
    originals = {name: getattr(M, name) for name in calls}

    def spy(name):
        def wrapped(*args, **kwargs):
            calls[name].append((args, kwargs))
            return originals[name](*args, **kwargs)
        return wrapped

    for name in calls:
        monkeypatch.setattr(M, name, spy(name))
    df = C.train_batch("trpo_pendulum", [0], SMOKE)[0]
    n_updates = int(df["updates"].sum())
    assert n_updates == 2 and len(calls["meta_iteration"]) == n_updates
    for args, kwargs in calls["meta_iteration"]:
        assert isinstance(args[1], C.Pendulum) and kwargs == {"adapt_steps": 0, "second_order": False}
    assert len(calls["rollout"]) == n_updates and all(isinstance(a[0], C.Pendulum) for a, _ in calls["rollout"])
    assert len(calls["trpo_step"]) == n_updates
    for args, _ in calls["trpo_step"]:
        theta, pre, post, cfg, second_order = args
        assert pre is None and second_order is False and post.n_tasks == 1 and cfg.n_tasks == 1


def test_accepted_steps_are_the_checked_steps():
    """One update on a Pendulum batch: the logged KL and surrogate gain are the returned parameters' own,
    recomputed by the unfused functions the gradient uses, and the KL is inside the bound."""
    env = C.Pendulum(horizon=50)
    cfg = C.make_config(_complete("trpo_pendulum", {"policy": {"hidden": [16, 16]}, "trpo": {"n_traj": 6}}))
    theta = M.init_policy(3, 1, cfg.hidden, torch.Generator().manual_seed(3), cfg.init_log_std)
    gen = torch.Generator().manual_seed(4)
    goals = env.sample_goals(1, gen)
    post = M.process(M.rollout(env, theta, goals, cfg.n_traj, gen), theta, cfg)
    new, st = M.trpo_step(theta, None, post, cfg, second_order=False)
    assert st["backtracks"] < cfg.ls_max_steps  # a step was accepted
    phi = M.expand_tasks(new, 1)
    kl = float(M.kl_old_new(phi, post).mean())
    gain = st["loss"] - float(M.surrogate_loss(phi, post).mean())
    assert kl == pytest.approx(st["kl"], rel=1e-5) and 0 < kl <= cfg.max_kl
    assert gain == pytest.approx(st["improvement"], rel=1e-4) and gain > 0


def test_rows_are_deterministic_and_well_formed():
    a = C.train_batch("trpo_pendulum", [0, 1], SMOKE)
    b = LC.train("trpo_pendulum", [0, 1], {"trpo_pendulum": SMOKE})  # through the experiment
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x.drop(columns="wall_s"), y.drop(columns="wall_s"))
    df = a[0]
    assert df["iteration"].tolist() == [0, 1, 2] and (df["phase"] == "eval").all()
    assert df["env_steps"].tolist() == [0, 40, 80] and df["env_steps"].dtype.kind == "i"
    assert (df["env"] == "Pendulum-v1").all() and df["wall_s"].dtype.kind == "f"
    assert df["updates"].tolist() == [0, 1, 1]
    assert np.isfinite(df["return"]).all() and (df["return"] < 0).all()
    assert np.isnan(df.loc[0, ["kl_ratio_max", "surrogate_gain_min"]].astype(float)).all()  # no update yet
    acc = df[df["accepted"] > 0]
    assert len(acc) and (acc["kl_ratio_max"] <= 1.0).all() and (acc["surrogate_gain_min"] > 0).all()
    assert not a[0]["return"].equals(a[1]["return"])  # seeds differ
    with pytest.raises(KeyError):
        C.train_batch("td3_pendulum", [0], SMOKE)


# ------------------------------------------------------------------------------------- the claims


def _table(returns_at_150k, kl=0.9, gain=1e-3, after=-2000.0):
    """Constructed evaluation rows of 5 seeds: before training, at 75k, at 150k, and one past 150k (which
    the claim must not read)."""
    rows = []
    for seed, ret in enumerate(returns_at_150k):
        for i, (steps, r) in enumerate([(0, -1450.0), (75000, -1000.0), (150000, ret), (165000, after)]):
            rows.append({"experiment": "learner_checks", "algo": "trpo_pendulum", "seed": seed, "iteration": i,
                         "phase": "eval", "env_steps": steps, "return": r, "wall_s": 1.0, "env": "Pendulum-v1",
                         "kl_ratio_max": np.nan if i == 0 else kl * (1 - 0.01 * seed),
                         "surrogate_gain_min": np.nan if i == 0 else gain * (1 + seed)})
    return pd.DataFrame(rows)


def _verdict(cid, table):
    claim = DECLARED[cid]
    samples = K.measure_claim(REGISTRY.measures("learner_checks"), claim, table, {})
    return K.decide(claim, samples, reps=500, confidence=0.95, seed=1)["verdict"]


@pytest.mark.skipif(set(IDS) - set(DECLARED), reason="the trpo_pendulum claims are not declared in claims.yaml")
def test_claims_hold_and_fail_on_constructed_tables():
    c = DECLARED["learner_trpo_pendulum"]
    assert c["expected_range"] == [-998, None] and c["params"]["at_steps"] == 150000
    assert c["paper_budget"]["value"] == 150000
    reached = [-250.0, -400.0, -600.0, -700.0, -500.0]  # around MushroomRL's -606 +- 392
    assert _verdict("learner_trpo_pendulum", _table(reached)) == "holds"
    assert _verdict("learner_trpo_pendulum", _table([-1450.0, -1400.0, -1500.0, -1380.0, -1420.0])) == "fails"
    # the point past 150,000 steps is not read: a good return there does not rescue a run that did not learn
    assert _verdict("learner_trpo_pendulum", _table([-1450.0] * 5, after=-150.0)) == "fails"
    for cid in IDS[1:]:
        assert DECLARED[cid].get("kind") == "analytic"
    assert _verdict("learner_trpo_pendulum_kl", _table(reached, kl=0.98)) == "holds"
    assert _verdict("learner_trpo_pendulum_kl", _table(reached, kl=1.6)) == "fails"  # steps past the bound
    assert _verdict("learner_trpo_pendulum_surrogate", _table(reached, gain=2e-4)) == "holds"
    assert _verdict("learner_trpo_pendulum_surrogate", _table(reached, gain=-2e-4)) == "fails"


# ------------------------------------------------------------------------------------- the claims' path


# (the golden tables of this learner's users are checked by
# tests/test_golden.py::test_golden_runs_reproduce_the_committed_hashes, which trains every golden run)
