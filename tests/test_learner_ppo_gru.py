"""The check of RL²'s learner (PPO + GRU, hrlmeta.algos.rl2) on CartPole-v1 / CartPoleNoVel-v1
(learner_checks/check_ppo_gru.py): its rows, its determinism, that it runs the RL² claims' own code, and the
learner's generalisations (absorbing meta-environments, schedules) leave the RL² experiments'
runs unchanged."""

import hrlmeta  # noqa: F401  (pins the numerics before numpy / torch run)

import copy
import platform

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch

from hrlmeta.algos import rl2
from hrlmeta.experiments.learner_checks import check_ppo_gru as C

ALGOS = ("ppo_gru_cartpole", "ppo_gru_cartpole_novel")


def _block(novel: bool, **over) -> dict:
    """A tiny block of the default-scale form (smoke sizes)."""
    b = {"total_steps": 300, "eval_every": 150, "eval_episodes": 2, "horizon": 500, "normalize": novel,
         "reference": {"mean": 500.0, "spread": 0.0, "n_runs": 1, "env_steps": 100000, "source": "test"},
         "ppo": {"batch_tasks": 2, "epochs": 1, "minibatches": 2, "hidden": 16, "lr": 0.001,
                 "lr_final": 0.0, "clip": 0.2, "clip_final": 0.0, "gamma": 0.98, "gae_lambda": 0.8,
                 "entropy_coef": 0.0, "entropy_coef_final": 0.0, "value_coef": 0.5, "max_grad_norm": 0.5}}
    b.update(over)
    return b


TIMING = ["wall_s", "eval_wall_s"]


@pytest.mark.parametrize("algo", ALGOS)
def test_rows_and_determinism(algo):
    p = _block(algo.endswith("novel"))
    a = C.train_batch(algo, [0, 1], p)
    b = C.train_batch(algo, [0, 1], copy.deepcopy(p))
    assert len(a) == 2
    for df in a:
        assert list(df["iteration"]) == list(range(len(df)))
        assert set(df["phase"]) == {"eval"}
        assert df["env"].iloc[0] == ("CartPoleNoVel-v1" if algo.endswith("novel") else "CartPole-v1")
        steps = df["env_steps"].to_numpy()
        assert steps[0] == 0 and np.all(np.diff(steps) > 0) and steps[-1] >= p["total_steps"]
        assert df["env_steps"].dtype.kind == "i" and df["return"].dtype.kind == "f" and df["wall_s"].dtype.kind == "f"
        assert ((df["return"] >= 1) & (df["return"] <= 500)).all()     # CartPole: every episode takes a step
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x.drop(columns=TIMING), y.drop(columns=TIMING))
    assert not a[0].drop(columns=TIMING).equals(a[1].drop(columns=TIMING))   # seeds differ


def test_check_runs_the_rl2_learner(monkeypatch):
    """The check trains through rl2.train, whose every iteration is rl2.rollout + rl2.ppo_update on an
    RL2Policy, the GRU through GRUSequence: the functions the RL² experiments run."""
    calls = {"train": 0, "update": 0, "gru": 0, "policy": None}
    train, update, apply = rl2.train, rl2.ppo_update, rl2.GRUSequence.apply

    def spy_train(*a, **k):
        calls["train"] += 1
        return train(*a, **k)

    def spy_update(policy, *a, **k):
        calls["update"] += 1
        calls["policy"] = type(policy)
        return update(policy, *a, **k)

    def spy_gru(*a):
        calls["gru"] += 1
        return apply(*a)

    monkeypatch.setattr(rl2, "train", spy_train)
    monkeypatch.setattr(rl2, "ppo_update", spy_update)
    monkeypatch.setattr(rl2.GRUSequence, "apply", spy_gru)
    C.train_batch("ppo_gru_cartpole_novel", [0], _block(True))
    assert calls["train"] == 1 and calls["update"] >= 1 and calls["gru"] >= calls["update"]
    assert calls["policy"] is rl2.RL2Policy


@pytest.mark.parametrize("novel", [False, True])
def test_cartpole_meta_env_is_gymnasium_cartpole(novel):
    """Transition by transition: the meta-environment's observations, rewards and terminations are those of
    gymnasium's CartPole-v1 (velocities zeroed as rl-baselines3-zoo's MaskVelocityWrapper does for NoVel)."""
    env = rl2.CartPoleMetaEnv(mask_velocity=novel)
    gen = torch.Generator().manual_seed(3)
    obs = env.reset_trial(1, None, gen)
    g = gym.make("CartPole-v1")
    g.reset(seed=0)
    g.unwrapped.state = env.state[0].numpy().copy()
    mask = np.array([1, 0, 1, 0], dtype=np.float32) if novel else np.ones(4, dtype=np.float32)
    rng = np.random.default_rng(0)
    for t in range(500):
        a = int(rng.integers(2)) if t % 3 else int(env.state[0, 2] > 0)   # mostly balancing, some noise
        o, r, term, trunc, _ = g.step(a)
        obs, rew, done, _ = env.step(torch.tensor([a]))
        np.testing.assert_array_equal(obs[0].numpy(), o * mask)
        assert float(rew[0]) == r == 1.0
        assert bool(done[0]) == term
        if term:
            break
    # absorbed: reward 0, observation frozen, done stays set
    if term:
        frozen = obs.clone()
        obs, rew, done, _ = env.step(torch.tensor([0]))
        assert float(rew[0]) == 0.0 and bool(done[0]) and torch.equal(obs, frozen) and not bool(env.alive.any())


def test_absorbing_rollout_and_masked_update():
    """The rollout stops when every episode has ended and masks the absorbed steps; the update ignores
    what happens on them (changing their inputs, actions or rewards changes nothing)."""
    torch.manual_seed(0)
    env = rl2.CartPoleMetaEnv()
    p = rl2.RL2Policy(4, 2, 8)
    ro = rl2.rollout(p, env, 4, None, torch.Generator().manual_seed(1))
    M = ro["mask"]
    T = M.shape[0]
    lengths = M.sum(0)
    assert T == int(lengths.max()) < env.trial_length
    assert torch.equal(ro["rewards"], M)                       # reward 1 exactly on the steps taken
    assert torch.all(M[:-1] >= M[1:])                           # alive, then absorbed for good
    cfg = rl2.PPOConfig(hidden=8, epochs=2, minibatches=2)
    ro2 = {k: v.clone() for k, v in ro.items()}
    dead = M == 0
    ro2["X"][dead] = torch.randn(int(dead.sum()), ro2["X"].shape[2])
    ro2["A"][dead] = 1 - ro2["A"][dead]
    ro2["logp"][dead] = -5.0
    ro2["values"][dead] = 7.0
    out = []
    for r in (ro, ro2):
        q = copy.deepcopy(p)
        opt = torch.optim.Adam(q.parameters(), lr=1e-2, eps=1e-5, foreach=True)
        rl2.ppo_update(q, opt, r, rl2.RunningStats(), cfg, 0.0, torch.Generator().manual_seed(2))
        out.append(torch.cat([w.detach().ravel() for w in q.parameters()]))
    torch.testing.assert_close(out[0], out[1], rtol=0, atol=1e-6)


def test_running_mean_std_is_the_pooled_statistics():
    rms = rl2.RunningMeanStd(3)
    rng = np.random.default_rng(0)
    xs = [rng.normal(2.0, 3.0, size=(n, 3)) for n in (5, 17, 1, 40)]
    for x in xs:
        rms.update(torch.from_numpy(x))
    allx = np.concatenate(xs)
    np.testing.assert_allclose(rms.mean.numpy(), allx.mean(0), rtol=1e-4)
    np.testing.assert_allclose(rms.var.numpy(), allx.var(0), rtol=1e-3)


# (the golden tables of this learner's users are checked by
# tests/test_golden.py::test_golden_runs_reproduce_the_committed_hashes, which trains every golden run)


def _claims():
    from pathlib import Path

    from hrlmeta import claims as K

    path = Path(C.__file__).with_name("claims.yaml")
    found = {c["id"]: c for c in K.load_claims(path, experiment="learner_checks")} if path.exists() else {}
    ids = ("learner_ppo_gru_cartpole", "learner_ppo_gru_cartpole_novel")
    if not all(i in found for i in ids):
        pytest.skip("learner_checks/claims.yaml does not declare the ppo_gru claims yet")
    return [found[i] for i in ids]


def _eval_table(algo: str, finals) -> pd.DataFrame:
    rows = []
    for seed, final in enumerate(finals):
        for i, (steps, ret) in enumerate([(0, 20.0), (25000, 300.0), (50000, float(final))]):
            rows.append({"experiment": "learner_checks", "algo": algo, "seed": seed, "iteration": i, "phase": "eval",
                         "env_steps": steps, "return": ret, "wall_s": 1.0, "env": "CartPole-v1"})
    return pd.DataFrame(rows)


def test_claims_hold_and_fail_on_constructed_tables():
    """Each declared claim holds where every seed ends at (or just under) 500 and fails where the seeds end
    near 300, deciding the declared claim with its own measure and bootstrap."""
    from hrlmeta import claims as K
    from hrlmeta.experiments.learner_checks.measures import MEASURES

    for claim in _claims():
        algo = claim["params"]["algo"]
        for finals, verdict in (([500, 500, 498.5, 500, 496.0], "holds"), ([310, 280, 330, 295, 300], "fails")):
            samples = K.measure_claim(MEASURES, claim, _eval_table(algo, finals), {})
            row = K.decide(claim, samples, reps=500, confidence=0.95, seed=1)
            assert row["verdict"] == verdict, (claim["id"], finals, row)


@pytest.mark.parametrize("separate", [False, True])
def test_segments_start_from_the_rollout_state(separate):
    """Truncated BPTT (PPOConfig.bptt_len): every segment starts from the hidden state the rollout had before
    its first step, so re-running the policy over the segments reproduces the behaviour policy's
    log-probabilities and values at every live step; padding and fully absorbed segments carry mask 0."""
    torch.manual_seed(3)
    env = rl2.CartPoleMetaEnv()
    p = rl2.RL2Policy(4, 2, 8, separate_value=separate)
    ro = rl2.rollout(p, env, 3, None, torch.Generator().manual_seed(4))
    assert ro["HS"].shape[-1] == (16 if separate else 8)
    L = 7
    T = ro["A"].shape[0]
    X, A, lp, adv, tgt, m, h0 = rl2._segments(ro, ro["X"], ro["A"], ro["logp"], ro["values"], ro["values"],
                                             ro["mask"], L)
    assert X.shape[0] == L and h0.shape == (1, X.shape[1], ro["HS"].shape[-1])
    assert int(m.sum()) == int(ro["mask"].sum())                   # every live step in exactly one segment
    assert bool((m.sum(0) > 0).all())                               # no segment without a live step
    with torch.no_grad():
        logits, v = p.forward_seq(X, h0)
    logp = rl2.log_softmax(logits).gather(2, A[:, :, None]).squeeze(2)
    live = m.bool()
    torch.testing.assert_close(logp[live], lp[live], rtol=0, atol=1e-5)
    torch.testing.assert_close(v[live], adv[live], rtol=0, atol=1e-5)   # adv was given the recorded values
    assert T > L                                                    # several segments per trial were cut


def test_bptt_over_whole_trials_is_the_whole_trial_update():
    """With segments as long as the trial, the segment update is the whole-trial update (same minibatches,
    same gradients) up to float rounding."""
    torch.manual_seed(5)
    env = rl2.BanditMetaEnv(12, 3)
    p = rl2.RL2Policy(env.obs_dim, env.n_actions, 8)
    ro = rl2.rollout(p, env, 4, np.random.default_rng(0), torch.Generator().manual_seed(6))
    out = []
    for cfg in (rl2.PPOConfig(hidden=8, epochs=2, minibatches=2),
                rl2.PPOConfig(hidden=8, epochs=2, bptt_len=12, minibatch_segments=2)):
        q = copy.deepcopy(p)
        opt = torch.optim.Adam(q.parameters(), lr=1e-2, eps=1e-5, foreach=True)
        rl2.ppo_update(q, opt, ro, rl2.RunningStats(), cfg, 0.01, torch.Generator().manual_seed(7))
        out.append(torch.cat([w.detach().ravel() for w in q.parameters()]))
    torch.testing.assert_close(out[0], out[1], rtol=0, atol=1e-5)
    assert not torch.equal(out[0], torch.cat([w.detach().ravel() for w in p.parameters()]))


def test_separate_value_network_and_config_errors():
    """separate_value: the value loss reaches only the value GRU and head; the policy's loss only the policy
    GRU and head. bptt_len and minibatch_segments come together."""
    torch.manual_seed(8)
    p = rl2.RL2Policy(4, 2, 8, separate_value=True)
    X = torch.randn(6, 3, p.in_dim)
    logits, v = p.forward_seq(X)
    v.sum().backward()
    assert all(w.grad is None or not bool(w.grad.any()) for w in (*p.gru.parameters(), *p.pi.parameters()))
    assert all(w.grad is not None and bool(w.grad.any()) for w in (*p.vgru.parameters(), *p.v.parameters()))
    p.zero_grad(set_to_none=True)
    logits, v = p.forward_seq(X)
    logits.sum().backward()
    assert all(w.grad is None or not bool(w.grad.any()) for w in (*p.vgru.parameters(), *p.v.parameters()))
    with pytest.raises(ValueError, match="minibatch_segments"):
        rl2.PPOConfig(bptt_len=32)
    with pytest.raises(ValueError, match="bptt_len"):
        rl2.PPOConfig(minibatch_segments=8)
