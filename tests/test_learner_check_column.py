"""claims.tsv's learner_check column: every claim estimated by a deep learner names the checks of that learner
(experiment learner_checks) and their verdicts; the report flags a claim whose learner is not proven."""

import pandas as pd

from hrlmeta import claims as K
from hrlmeta.experiments import REGISTRY
from hrlmeta.report import claims_markdown

DECLARED = {c["id"]: c for c in K.declared_claims(REGISTRY, check_measures=False)}
DEEP = ("nav2d_finn", "bandits_duan", "tabular_mdp_duan", "pointmass_diayn", "chain_hdqn", "cartpole_meta",
        "cartpole_flip_meta", "pointmaze_hiro", "nav2d_seedblog")
CHECK_IDS = {c["id"] for c in DECLARED.values() if c["experiment"] == "learner_checks"}


def test_every_named_check_is_a_declared_learner_check():
    for name in REGISTRY.available():
        for algo, checks in (REGISTRY.describe(name).get("learner_checks") or {}).items():
            assert algo in REGISTRY.describe(name)["algos"], (name, algo)
            assert set(checks) <= CHECK_IDS, (name, sorted(set(checks) - CHECK_IDS))


def test_deep_learner_claims_name_their_checks_and_tabular_ones_none():
    checks = {cid: K.learner_checks_of(c, REGISTRY) for cid, c in DECLARED.items()}
    assert checks["rl2_bandit_n10_k5"] == ["learner_ppo_gru_cartpole", "learner_ppo_gru_cartpole_novel"]
    assert checks["hiro_vs_flat"] == ["learner_td3_pendulum"]
    assert checks["diayn_end_spread"] == ["learner_sac_pendulum"]
    assert checks["fomaml_perf_gap"] == ["learner_trpo_pendulum"]  # the measure picks maml/fomaml itself
    assert checks["meta_vs_transfer"] == ["learner_pg_cartpole"]
    assert checks["hdqn_neural_beats_q"] == ["learner_dqn_frozenlake", "learner_dqn_cartpole"]
    assert checks["hdqn_beats_q"] == []            # tabular h-DQN vs tabular Q-learning
    assert checks["gittins_bandit_n10_k5"] == []   # analytic
    assert checks["ucb1_bandit_n10_k5"] == []      # a fixed baseline policy, no learner
    assert checks["maml_adaptation_gain_seedblog"][0].startswith("unchecked")
    for cid, c in DECLARED.items():  # every RL² cell and every claim of the deep experiments but tabular ones
        if c["experiment"] in DEEP and c.get("kind") != "analytic" and "rl2" in str(c.get("params")):
            assert checks[cid], cid


def test_cell_and_flag():
    cell = K.learner_check_cell(["learner_a", "learner_b"], {"learner_a": "holds", "learner_b": "fails"})
    assert cell == "learner_a: holds; learner_b: fails"
    assert K.failed_checks(cell) == ["learner_b (fails)"]
    assert K.failed_checks(K.learner_check_cell(["learner_c"], {})) == ["learner_c (not run)"]
    assert K.failed_checks("learner_a: holds") == []
    df = pd.DataFrame([{"claim_id": "x", "expected": "> 1", "estimate": 2.0, "ci_low": 1.5, "ci_high": 2.5,
                        "n_seeds": 5, "verdict": "holds", "kind": "experimental", "learner_check": cell},
                       {"claim_id": "y", "expected": "> 1", "estimate": 2.0, "ci_low": 1.5, "ci_high": 2.5,
                        "n_seeds": 5, "verdict": "holds", "kind": "experimental", "learner_check": "learner_a: holds"}])
    text = claims_markdown(df)
    row_x = next(line for line in text.splitlines() if line.startswith("| `x`"))
    row_y = next(line for line in text.splitlines() if line.startswith("| `y`"))
    assert "learner not proven: learner_b (fails)" in row_x
    assert row_x.index("learner not proven") < row_x.index("holds")  # flagged before the verdict
    assert "not proven" not in row_y
