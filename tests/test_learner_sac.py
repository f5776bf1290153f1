"""learner_checks ``sac_pendulum``: the SAC check runs the learner DIAYN's claims run (same classes, same
update function), its tables are deterministic and per seed independent of the batch, the soft target's
optional done mask leaves the bootstrapping target unchanged where nothing terminates, and DIAYN's golden
run is unchanged."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from hrlmeta.algos import diayn as D
from hrlmeta.algos import sac as S
from hrlmeta.envs.pointmass import PointMass
from hrlmeta.experiments import REGISTRY
from hrlmeta.experiments.learner_checks import check_sac


def _complete(algo: str, block: dict) -> dict:
    """A hand-built block of ``algo`` completed with the learner_checks schema's defaults, as the config loader
    hands it over (the check modules read every key)."""
    from hrlmeta.config import load_schema, schema_defaults

    return schema_defaults(block, load_schema("learner_checks", REGISTRY)["properties"][algo])


#: a tiny block (smoke-sized; the default block lives in config/config.yaml), schema defaults filled in
BLOCK = _complete("sac_pendulum", {
    "env": "Pendulum-v1", "total_steps": 300, "eval_every": 150, "eval_episodes": 2, "hidden": [16, 16],
    "lr": 3e-4, "gamma": 0.99, "tau": 0.001, "alpha": 0.2, "batch_size": 16, "min_pool": 128,
    "updates_per_step": 1.0, "buffer_size": 500000,
    "reference": {"mean": -148.5, "spread": 30.3, "n_runs": 25, "env_steps": 60000, "source": "test"}})


def _strip(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["wall_s"])


@pytest.fixture(scope="module")
def batch_tables():
    return check_sac.train_batch("sac_pendulum", [3, 4], BLOCK)


def test_rows(batch_tables):
    for df in batch_tables:
        assert {"iteration", "phase", "env_steps", "return", "wall_s", "env"} <= set(df.columns)
        assert list(df["iteration"]) == [0, 1, 2]
        assert list(df["env_steps"]) == [0, 150, 300]
        assert set(df["phase"]) == {"eval"} and set(df["env"]) == {"Pendulum-v1"}
        assert df["iteration"].dtype.kind == "i" and df["env_steps"].dtype.kind == "i"
        # Pendulum-v1: per-step reward in [-(pi^2 + 0.1 * 8^2 + 0.001 * 2^2), 0], 200 steps
        assert np.all(df["return"] <= 0) and np.all(df["return"] >= -200 * (np.pi ** 2 + 6.4 + 0.004))
        assert np.all(df["wall_s"] >= 0)
        # updates start once the replay holds min_pool transitions, one per step after
        assert list(df["updates"]) == [0, 150 - 128 + 1, 300 - 128 + 1]


def test_deterministic_and_independent_of_the_batch(batch_tables):
    again = check_sac.train_batch("sac_pendulum", [3, 4], BLOCK)
    for a, b in zip(batch_tables, again):
        pd.testing.assert_frame_equal(_strip(a), _strip(b))
    alone = check_sac.train_batch("sac_pendulum", [4], BLOCK)[0]
    pd.testing.assert_frame_equal(_strip(alone), _strip(batch_tables[1]))
    assert not _strip(batch_tables[0]).equals(_strip(batch_tables[1]))  # seeds differ


def _spy(monkeypatch):
    calls = []
    orig = S.SACSeeds.update

    def spy(self, opt, *args, **kw):
        calls.append((type(self), type(opt), kw.get("extra_loss") is not None, kw.get("done") is not None))
        return orig(self, opt, *args, **kw)

    monkeypatch.setattr(S.SACSeeds, "update", spy)
    return calls


def test_check_and_diayn_take_the_same_update(monkeypatch):
    """The check's gradient steps and DIAYN's are both SACSeeds.update with a SeedAdam (DIAYN adds its
    discriminator's loss to the step; the check passes the done mask)."""
    calls = _spy(monkeypatch)
    check_sac.train_batch("sac_pendulum", [0], {**BLOCK, "total_steps": 130, "eval_every": 130,
                                                "eval_episodes": 1})
    assert calls and set(calls) == {(S.SACSeeds, S.SeedAdam, False, True)}
    calls.clear()
    cfg = D.DiaynConfig(num_skills=2, hidden=(8, 8), batch_size=4, n_envs=2, min_pool=10)
    batch = D.DiaynSeeds(cfg, PointMass(layout="open"), [torch.Generator().manual_seed(0)])
    batch.train(14)
    assert batch.updates > 0 and calls and set(calls) == {(S.SACSeeds, S.SeedAdam, True, False)}


def _tiny_agent(S_=2, B=5, o=3, a=1):
    cfg = S.SACConfig(obs_dim=o, act_dim=a, hidden=(8,), gamma=0.9, tau=0.5, alpha=0.2)
    agent, _ = S.SACSeeds.init(cfg, [torch.Generator().manual_seed(k) for k in range(S_)])
    g = torch.Generator().manual_seed(7)
    args = (torch.randn((S_, B, o), generator=g), torch.rand((S_, B, a), generator=g) * 2 - 1,
            torch.randn((S_, B), generator=g), torch.randn((S_, B, o), generator=g),
            torch.randn((S_, 2 * B, a), generator=g))
    return agent, args


def test_done_mask():
    agent, (obs, act, r, nxt, eps) = _tiny_agent()
    base = agent.losses(obs, act, r, nxt, eps)
    zero = agent.losses(obs, act, r, nxt, eps, done=torch.zeros_like(r))
    for x, y in zip(base, zero):
        assert torch.equal(x, y)  # nothing terminal: bit for bit the bootstrapping target
    c1, a1 = agent.losses(obs, act, r, nxt, eps, done=torch.ones_like(r))
    with torch.no_grad():
        q = S.q_values_seeds(agent.critic, obs, act)  # (S, 2, B)
        want = 0.5 * (q - r.unsqueeze(1)).pow(2).mean(dim=2).sum(dim=1)  # terminal: y = r
    torch.testing.assert_close(c1, want)
    assert torch.equal(a1, base[1])  # the actor's loss does not see the target


def test_single_agent_soft_target_done_mask():
    r, q, lp = torch.tensor([1.0, 2.0]), torch.tensor([[3.0, 5.0], [4.0, 1.0]]), torch.tensor([0.5, -1.0])
    y = S.soft_target(r, q, lp, 0.9, 0.2)
    assert torch.equal(y, S.soft_target(r, q, lp, 0.9, 0.2, done=torch.zeros(2)))
    torch.testing.assert_close(S.soft_target(r, q, lp, 0.9, 0.2, done=torch.tensor([1.0, 0.0])),
                               torch.tensor([1.0, 2.0 + 0.9 * (1.0 + 0.2)]))


# (the golden tables of this learner's users are checked by
# tests/test_golden.py::test_golden_runs_reproduce_the_committed_hashes, which trains every golden run)


def _declared_claim():
    from hrlmeta.experiments import REGISTRY
    from hrlmeta import claims as K

    found = [c for c in K.declared_claims(REGISTRY) if c["id"] == "learner_sac_pendulum"]
    if not found:
        pytest.skip("learner_sac_pendulum is not declared in learner_checks/claims.yaml yet")
    return found[0]


@pytest.mark.parametrize("finals, verdict", [
    ([-140.0, -150.0, -145.0, -155.0, -135.0], "holds"),     # at the published level (-148.5)
    ([-420.0, -400.0, -380.0, -450.0, -390.0], "fails"),     # far below: the learner does not learn the swing-up
])
def test_claim_holds_and_fails_on_constructed_tables(finals, verdict):
    from hrlmeta import claims as K
    from hrlmeta.experiments.learner_checks.measures import MEASURES

    claim = _declared_claim()
    rows = [{"experiment": "learner_checks", "algo": "sac_pendulum", "seed": s, "phase": "eval", "iteration": i,
             "env_steps": steps, "return": r, "env": "Pendulum-v1", "wall_s": 0.0}
            for s, f in enumerate(finals)
            for i, (steps, r) in enumerate([(0, -1300.0), (30000, f), (90000, -1500.0)])]  # 90k: past at_steps
    samples = K.measure_claim(MEASURES, claim, pd.DataFrame(rows), {})
    assert np.allclose(np.sort(samples.values), np.sort(finals))
    assert K.decide(claim, samples, reps=1000, confidence=0.95, seed=0)["verdict"] == verdict
