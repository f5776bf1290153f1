"""chain_hdqn's re-posed claims (Kulkarni et al. 2016, Sec. 4.1): the tables' step size and the training budget
in the robustness grids, read from the training variants of the run table (the ``sweep`` rows).

On constructed run tables whose answer is known each declared claim (claims.yaml) holds where the paper's
statement is true and fails where it is false, at its primary specification and at a specification that reads
the sweep rows; a tiny real training run writes exactly the rows those specifications select."""

import copy

import numpy as np
import pandas as pd
import pytest

from hrlmeta import claims as K
from hrlmeta import config as C
from hrlmeta.envs import chain
from hrlmeta.experiments import REGISTRY
from hrlmeta.experiments.chain_hdqn import analysis as A
from hrlmeta.experiments.chain_hdqn import training as E

DECLARED = {c["id"]: c for c in K.declared_claims(REGISTRY) if c["experiment"] == "chain_hdqn"}
REPOSED = ("hdqn_beats_q", "hdqn_neural_beats_q", "hdqn_reward_paper", "q_learning_reward_paper",
           "hdqn_fraction_of_optimum")
OPT = 0.208
SEEDS = 6


@pytest.fixture(scope="module")
def params():
    p = copy.deepcopy(C.experiment_params(C.load_config(REGISTRY), "chain_hdqn"))
    p.update(n_episodes=2000, final_episodes=1000, eval_every=1000)
    return p


def _runs(p: dict, algo: str, reward: float, greedy: float, alpha=None, factor=None) -> pd.DataFrame:
    """Rows of ``algo`` (the run itself, or the sweep run of ``alpha`` kept at ``factor`` x n_episodes) in which
    every seed earns ``reward`` per episode and its greedy policy returns exactly ``greedy``."""
    F = p["final_episodes"]
    if alpha is None:
        end, phase, a = p["n_episodes"], ("train" if algo != "hdqn" else None), p["tabular"]["alpha"]
        ep = np.arange(1, end + 1)
        at = ep % p["eval_every"] == 0
    else:
        end, phase, a = A.budget_episodes(p, factor), "sweep", alpha
        ep = np.arange(end - F + 1, end + 1)
        at = ep == end
    return pd.concat([pd.DataFrame({
        "algo": algo, "seed": s, "episode": ep, "steps": 4, "return": float(reward),
        "greedy_return": np.where(at, greedy, np.nan), "phase": phase,
        "alpha": a if algo != "hdqn" else np.nan}) for s in range(SEEDS)], ignore_index=True)


def _table(p: dict, runs: dict) -> pd.DataFrame:
    """``runs``: {(algo, alpha, factor): (reward, greedy)}; alpha None = the run itself."""
    return pd.concat([_runs(p, algo, r, g, alpha, factor) for (algo, alpha, factor), (r, g) in runs.items()],
                     ignore_index=True)


def _decide(claim: dict, table, p) -> dict:
    s = K.measure_claim(REGISTRY.measures("chain_hdqn"), claim, table, p)
    return K.decide(claim, s, reps=300, confidence=0.95, seed=1)


def _spec(cid: str, alpha, factor=None) -> dict:
    spec = {"params.alpha": alpha}
    if factor is not None:
        spec["params.budget_factor"] = factor
    assert spec in K.robustness_grid(DECLARED[cid]), (cid, spec)  # the declared grid holds this specification
    return K.apply_spec(DECLARED[cid], spec)


# the paper's picture (Sec. 4.1): two-level learner ~0.13 and optimal; flat Q-learning 0.01 from the 0.01 policy
PAPER = {("hdqn_tabular", None, None): (0.13, OPT), ("q_learning", None, None): (0.01, 0.01),
         ("hdqn", None, None): (0.13, OPT)}
# its opposite: flat Q-learning finds 'always right', the two-level learner stays at the 0.01 policy
OPPOSITE = {("hdqn_tabular", None, None): (0.01, 0.01), ("q_learning", None, None): (0.15, OPT),
            ("hdqn", None, None): (0.01, 0.01)}


def test_grids_hold_the_papers_learning_rate_and_the_budgets():
    for cid in ("hdqn_beats_q", "hdqn_reward_paper", "q_learning_reward_paper", "hdqn_fraction_of_optimum"):
        grid = [s for s in K.robustness_grid(DECLARED[cid]) if "params.alpha" in s]
        assert {s["params.alpha"] for s in grid} == {0.00025, 0.001, 0.01, 0.1}
        assert {s["params.budget_factor"] for s in grid} == {1, 5}
    # the neural h-DQN is not swept: only the flat baseline's step size varies in its comparison
    grid = [s for s in K.robustness_grid(DECLARED["hdqn_neural_beats_q"]) if "params.alpha" in s]
    assert {s["params.alpha"] for s in grid} == {0.00025, 0.001, 0.01, 0.1}
    assert not any("params.budget_factor" in s for s in grid)
    for cid in REPOSED + ("hdqn_neural_reward_paper",):
        assert DECLARED[cid]["revisions"][-1]["date"] == "2026-12-07"
        if "paper_budget" in DECLARED[cid]:  # the released code's 600,000 steps ('200 epochs')
            assert DECLARED[cid]["paper_budget"]["value"] == 600000
    for cid in REPOSED:
        assert set(DECLARED[cid]["posed"]) == {"words", "quantity", "threshold", "why"}


@pytest.mark.parametrize("cid", REPOSED)
def test_primary_holds_on_the_papers_picture_and_fails_on_its_opposite(params, cid):
    assert _decide(DECLARED[cid], _table(params, PAPER), params)["verdict"] == "holds"
    assert _decide(DECLARED[cid], _table(params, OPPOSITE), params)["verdict"] == "fails"


def test_specifications_read_the_sweep_rows(params):
    """Each re-posed claim at a swept step size and budget reads that sweep run's rows: it holds where they
    show the paper's picture and fails where they show its opposite, whatever the run itself shows."""
    a, f = 0.00025, 5
    sweep_paper = {("hdqn_tabular", a, f): (0.13, OPT), ("q_learning", a, f): (0.01, 0.01)}
    sweep_opposite = {("hdqn_tabular", a, f): (0.01, 0.01), ("q_learning", a, f): (0.15, OPT)}
    for cid in ("hdqn_beats_q", "hdqn_reward_paper", "q_learning_reward_paper", "hdqn_fraction_of_optimum"):
        spec = _spec(cid, a, f)
        assert _decide(spec, _table(params, {**OPPOSITE, **sweep_paper}), params)["verdict"] == "holds", cid
        assert _decide(spec, _table(params, {**PAPER, **sweep_opposite}), params)["verdict"] == "fails", cid
        # the primary specification still reads the run itself
        assert _decide(DECLARED[cid], _table(params, {**PAPER, **sweep_opposite}), params)["verdict"] == "holds"
    # the neural comparison: the flat baseline's sweep run at the run's budget
    spec = _spec("hdqn_neural_beats_q", 0.1)
    paper = {**PAPER, ("q_learning", 0.1, 1): (0.01, 0.01)}
    opposite = {**PAPER, ("q_learning", 0.1, 1): (0.2, OPT)}
    assert _decide(spec, _table(params, paper), params)["verdict"] == "holds"
    assert _decide(spec, _table(params, opposite), params)["verdict"] == "fails"


def test_the_runs_own_step_size_and_budget_read_the_run_itself(params):
    """The grid's (0.01, 1) is the primary specification: the run's rows, not a sweep run's."""
    table = _table(params, {**PAPER, ("q_learning", 0.01, 1): (0.2, OPT),
                            ("hdqn_tabular", 0.01, 1): (0.01, 0.01)})
    for cid in ("hdqn_beats_q", "q_learning_reward_paper"):
        prim = K.measure_claim(REGISTRY.measures("chain_hdqn"), DECLARED[cid], table, params)
        same = K.measure_claim(REGISTRY.measures("chain_hdqn"), _spec(cid, 0.01, 1), table, params)
        np.testing.assert_array_equal(prim.values, same.values)


def test_a_variant_not_trained_is_inconclusive_not_an_error(params):
    table = _table(params, PAPER)  # no sweep rows at all
    for cid in ("hdqn_beats_q", "q_learning_reward_paper"):
        row = _decide(_spec(cid, 0.1, 5), table, params)
        assert row["verdict"] == "inconclusive" and row["n_seeds"] == 0
    # the neural h-DQN has no runs at another budget
    s = K.measure_claim(REGISTRY.measures("chain_hdqn"), K.set_dotted(DECLARED["hdqn_neural_reward_paper"],
                        "params.budget_factor", 5), table, params)
    assert len(s.values) == 0


def test_tiny_sweep_writes_what_the_measures_select():
    """A tiny real run: the sweep rows are the windows before each budget of one run per step size (same
    seed), the greedy policy is evaluated at each budget, the run's own step size reproduces the run itself
    (a tabular run is a prefix of a longer one), and a claim's specification reads exactly these rows."""
    p = copy.deepcopy(C.experiment_params(C.load_config(REGISTRY, "config/smoke.yaml"), "chain_hdqn"))
    p.update(n_episodes=60, final_episodes=20, eval_every=20,
             sweep={"alphas": [0.00025, 0.01, 0.1], "budget_factors": [1, 2]})
    p["epsilon"]["anneal_steps"] = 100
    measures = REGISTRY.measures("chain_hdqn")
    for algo in ("q_learning", "hdqn_tabular"):
        df = E.train(algo, [3], p)[0]
        assert E.train(algo, [3], p)[0].equals(df)  # seeded
        df = df.assign(algo=algo, seed=3)  # as the workflow writes it
        main, sw = df[df["phase"] == "train"], df[df["phase"] == "sweep"]
        assert main["episode"].tolist() == list(range(1, 61)) and (main["alpha"] == 0.01).all()
        for a in (0.00025, 0.01, 0.1):
            rows = sw[sw["alpha"] == a]
            assert rows["episode"].tolist() == list(range(41, 61)) + list(range(101, 121))
            assert rows.dropna(subset=["greedy_return"])["episode"].tolist() == [60, 120]
            ref = E.run_algo(algo, 3, {**p, "n_episodes": 120, "tabular": {"alpha": a, "alpha_meta": a}})
            np.testing.assert_array_equal(rows["return"].to_numpy(),
                                          np.r_[ref["return"][40:60], ref["return"][100:120]])
            g = (chain.flat_policy_return(chain.greedy_probs(ref["Q"])) if algo == "q_learning" else
                 chain.hier_policy_return(chain.greedy_probs(ref["Q2"]), chain.greedy_probs(ref["Q1"])))
            assert rows.loc[rows["episode"] == 120, "greedy_return"].item() == pytest.approx(g, abs=1e-12)
        # the run's own step size at 1x: the sweep run's window equals the run's last episodes
        cols = [c for c in df.columns if c != "phase"]
        assert sw[(sw["alpha"] == 0.01) & (sw["episode"] <= 60)][cols].reset_index(drop=True).equals(
            main[main["episode"] > 40][cols].reset_index(drop=True))
        # the measures read these rows: reward over the window before the budget, greedy return at it
        agent = {"agent": algo}
        r = measures["reward"](df, p, {**agent, "alpha": 0.1, "budget_factor": 2})
        np.testing.assert_allclose(r.values,
                                   [sw.loc[(sw["alpha"] == 0.1) & (sw["episode"] > 100), "return"].mean()])
        g = measures["greedy_return"](df, p, {**agent, "alpha": 0.00025, "budget_factor": 1})
        np.testing.assert_allclose(g.values, sw.loc[(sw["alpha"] == 0.00025) & (sw["episode"] == 60),
                                                    "greedy_return"].to_numpy())
        own = measures["reward"](df, p, {**agent, "alpha": 0.01, "budget_factor": 1})
        np.testing.assert_allclose(own.values, [main.loc[main["episode"] > 40, "return"].mean()])
        with pytest.raises(ValueError, match="final_episodes"):
            measures["reward"](df, p, {**agent, "alpha": 0.1, "budget_factor": 2, "final_episodes": 30})
    # the neural h-DQN's table is not swept (its golden hash stays)
    hp = {**p, "n_episodes": 20, "final_episodes": 10, "eval_every": 10}
    assert "phase" not in E.train("hdqn", [0], hp)[0].columns


def test_bad_sweep_names_the_key(params):
    p = copy.deepcopy(params)
    p["sweep"] = {"alphas": [0.0], "budget_factors": [1]}
    with pytest.raises(ValueError, match="sweep.alphas"):
        E.check_params(p)
    p["sweep"] = {"alphas": [0.1], "budget_factors": [0.1]}
    with pytest.raises(ValueError, match="sweep.budget_factors"):
        E.check_params(p)
