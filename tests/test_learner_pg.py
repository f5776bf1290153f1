"""Check ``pg_cartpole`` (learner_checks): the policy-gradient learner of Directed-MAML's pretrained baseline on
plain CartPole-v1 runs the claims' own code (the harness's learner, update and sampler), is deterministic, writes
the check's rows, and its claim can both hold and fail on constructed tables."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from hrlmeta import claims as K
from hrlmeta.algos import directed_maml as D
from hrlmeta.algos import maml as M
from hrlmeta.experiments import REGISTRY
from hrlmeta.experiments.learner_checks import check_pg
from hrlmeta.shared import meta_task_family as harness

BLOCK = {
    "total_steps": 600, "eval_every": 300, "eval_episodes": 4, "eval_seed": 7, "device": "cpu",
    "env": {"masscart": [1.0, 1.0], "masspole": [0.1, 0.1], "length": [0.5, 0.5], "horizon": 500},
    "policy": {"hidden": [8]},
    "meta": {"n_tasks": 2, "n_traj": 3, "outer_lr": 0.01, "gamma": 0.99, "normalize_advantages": True,
             "baseline_reg": 1.0e-5},
    "reference": {"mean": 195, "spread": 0, "n_runs": 1, "env_steps": 400000, "source": "test"},
}


def test_rows_and_determinism():
    a = check_pg.train_batch("pg_cartpole", [0, 1], BLOCK)
    b = check_pg.train_batch("pg_cartpole", [0, 1], BLOCK)
    assert len(a) == 2
    for df, again in zip(a, b):
        assert {"iteration", "phase", "env_steps", "return", "wall_s", "env"} <= set(df.columns)
        assert df["iteration"].tolist() == list(range(len(df)))
        assert (df["phase"] == "eval").all() and (df["env"] == "CartPole-v1").all()
        assert df["env_steps"].iloc[0] == 0 and df["env_steps"].is_monotonic_increasing
        assert df["env_steps"].iloc[-1] >= BLOCK["total_steps"] > df["env_steps"].iloc[-2]
        assert df["return"].between(1, 500).all()
        pd.testing.assert_frame_equal(df.drop(columns="wall_s"), again.drop(columns="wall_s"))
    assert not a[0]["return"].equals(a[1]["return"])  # the seed reaches every stream


def test_the_check_runs_the_claims_learner_update_and_sampler(monkeypatch):
    seen = {"learner": [], "rollout": 0, "loss": 0}
    real_learner, real_rollout, real_loss = harness._learner, D.rollout_categorical, M.pg_meta_loss

    def learner(algo, *args, **kw):
        obj = real_learner(algo, *args, **kw)
        seen["learner"].append((algo, obj))
        return obj

    def rollout(*args, **kw):
        seen["rollout"] += 1
        return real_rollout(*args, **kw)

    def loss(theta, pre, post, lr, second_order):
        seen["loss"] += 1
        assert pre is None and second_order is False  # the pretrained objective: no adaptation
        return real_loss(theta, pre, post, lr, second_order)

    monkeypatch.setattr(harness, "_learner", learner)
    monkeypatch.setattr(D, "rollout_categorical", rollout)
    monkeypatch.setattr(M, "pg_meta_loss", loss)
    df = check_pg.train_batch("pg_cartpole", [3], BLOCK)[0]
    (algo, obj), = seen["learner"]
    assert algo == "pretrained" and type(obj) is D.MetaLearner
    assert type(obj).step is D.MetaLearner.step and D.VARIANTS[obj.algo] == (0, False, False)
    assert seen["loss"] == int(df["updates"].iloc[-1]) > 0
    assert seen["rollout"] == seen["loss"] + len(df)  # one batch per update, one per evaluation
    # plain CartPole-v1: the one-point task box at gymnasium's values, v1's time limit
    assert obj.env.horizon == 500 and obj.env.flip_prob == 0
    assert obj.env.sample_tasks(3, torch.Generator().manual_seed(0)).tolist() == [[1.0, 0.1, 0.5]] * 3


def test_the_check_equals_the_harness_run_of_the_pretrained_baseline():
    """Same seed and settings: the harness's run (the claims' path) trains the same policy on the same
    trajectories, and its unadapted held-out evaluation is the check's evaluation."""
    block = copy.deepcopy(BLOCK)
    block["eval_every"] = 1  # an evaluation after every update
    df = check_pg.train_one(5, block)
    n = int(df["updates"].iloc[-1])
    hp = check_pg.harness_params(block)
    hp["meta"]["n_iterations"] = n
    hp["eval"] = {"n_tasks": 1, "n_traj": block["eval_episodes"], "step_sizes": [], "task_seed": block["eval_seed"]}
    hp["cost"] = {"repeats": 0}
    run = harness.run("pretrained", 5, hp, "cartpole_meta", harness.ENV_NAME, harness.make_env)
    mt = run[run["phase"] == "meta_train"].sort_values("iteration")
    np.testing.assert_array_equal(mt["return"].to_numpy(), df["train_return"].iloc[1:].to_numpy())
    np.testing.assert_array_equal(np.cumsum(mt["env_steps"].to_numpy()), df["env_steps"].iloc[1:].to_numpy())
    final = run[run["phase"] == "adapt_0"]["return"]
    assert float(final.iloc[0]) == pytest.approx(float(df["return"].iloc[-1]), rel=0, abs=1e-9)


# ------------------------------------------------------------------ the claim on constructed tables


def _claim() -> dict:
    declared = {c["id"]: c for c in K.declared_claims(REGISTRY)}
    if "learner_pg_cartpole" not in declared:
        pytest.skip("learner_pg_cartpole is not declared in learner_checks/claims.yaml")
    return declared["learner_pg_cartpole"]


def _table(final_returns) -> pd.DataFrame:
    rows = []
    for seed, r in enumerate(final_returns):
        steps = [0, 40000, 200000, 412345]
        rets = [22.0, 80.0, 0.5 * (80.0 + r), r]
        rows.append(pd.DataFrame({"experiment": "learner_checks", "algo": "pg_cartpole", "seed": seed,
                                  "iteration": range(4), "phase": "eval", "env_steps": steps, "return": rets,
                                  "wall_s": 0.1, "env": "CartPole-v1"}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("finals,verdict", [([480.0, 500.0, 462.0, 491.0, 499.0], "holds"),
                                            ([120.0, 150.0, 90.0, 160.0, 140.0], "fails")])
def test_claim_holds_and_fails(finals, verdict):
    claim = _claim()
    s = K.measure_claim(REGISTRY.measures("learner_checks"), claim, _table(finals), {})
    np.testing.assert_allclose(s.values, finals)
    assert s.budget == 412345
    row = K.decide(claim, s, reps=500, confidence=0.95, seed=1)
    assert row["verdict"] == verdict
