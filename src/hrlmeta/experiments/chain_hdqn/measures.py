"""The named measures of ``chain_hdqn``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Measures, Samples
from .analysis import LABELS, _iqm, final_greedy, final_reward, main_rows, optimal_return, reads

MEASURES = Measures()

ALGO = {"enum": ["q_learning", "hdqn", "hdqn_tabular"]}
FINAL = {"type": "integer", "minimum": 1}
#: the training variants a claim can read (the sweep rows, see the experiment's module doc): the tabular
#: agents' step size (alpha = alpha_meta; no effect on the neural h-DQN) and the training budget as a multiple
#: of the run's n_episodes
ALPHA = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
BUDGET = {"type": "number", "exclusiveMinimum": 0}
VARIANT = {"alpha": ALPHA, "budget_factor": BUDGET}


def _variant(cp: dict) -> tuple:
    return cp.get("alpha"), cp.get("budget_factor")


def _common(table: pd.DataFrame, params: dict, cp: dict):
    agent = cp.get("agent", "hdqn")
    final = int(cp.get("final_episodes", params["final_episodes"]))
    alpha, factor = _variant(cp)
    a = final_reward(table, agent, final, params, alpha, factor)
    words = reads(table, params, agent, alpha, factor)[2]
    own = main_rows(table)
    own = own[own["algo"] == agent]
    # our budget (env steps per run) where the claim reads the runs themselves; a sweep run's rows are windows
    budget = float(own.groupby("seed")["steps"].sum().mean()) if len(own) and words == "its runs" else None
    what = f"mean extrinsic reward per episode over the last {final} episodes"
    if words != "its runs":
        what += f" ({words})"
    return agent, final, a, budget, what


def _samples(vals, note, budget) -> Samples:
    return Samples(values=np.asarray(vals, dtype=float), statistic="iqm", note=note, budget=budget)


@MEASURES.register("difference", {"agent": ALGO, "baseline": ALGO, "final_episodes": FINAL, **VARIANT})
def difference(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: the agent's mean extrinsic reward per episode over the last episodes minus the baseline's."""
    agent, final, a, budget, what = _common(table, params, cp)
    baseline = cp.get("baseline", "q_learning")
    b = final_reward(table, baseline, final, params, *_variant(cp))
    seeds = a.index.intersection(b.index)
    vals = (a.loc[seeds] - b.loc[seeds]).to_numpy()
    words = reads(table, params, baseline, *_variant(cp))[2]
    if words != "its runs":
        what += f"; {LABELS[baseline]}: {words}"
    note = (f"{LABELS[agent]} minus {LABELS[baseline]}: per-seed difference of the {what} (paired by seed); "
            f"{LABELS[agent]} IQM {_iqm(a)}, {LABELS[baseline]} IQM {_iqm(b)}. Next to it: the memoryless "
            f"flat policy 'always right' is optimal (exact return {optimal_return(params):.4g}), so a positive "
            f"difference says which learner finds the optimum within the budget, not that the hierarchy can "
            f"represent more.")
    return _samples(vals, note, budget)


@MEASURES.register("reward", {"agent": ALGO, "final_episodes": FINAL, **VARIANT})
def reward(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: the agent's mean extrinsic reward per episode over the last episodes."""
    agent, final, a, budget, what = _common(table, params, cp)
    opt = optimal_return(params)
    frac = f"{float(_iqm(a)) / opt:.3f}" if len(a) else "–"
    note = (f"{LABELS[agent]}: per-seed {what}; as a fraction of the oracle optimum {opt:.4g}: {frac} (IQM; the "
            f"paper's 0.13 is {0.13 / opt:.3f} of it -- the same test, not a separate claim).")
    return _samples(a.to_numpy(), note, budget)


@MEASURES.register("greedy_return", {"agent": ALGO, "final_episodes": FINAL, **VARIANT})
def greedy_return(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: the exact expected return of the agent's final greedy policy."""
    agent, final, a, budget, what = _common(table, params, cp)
    vals = final_greedy(table, agent, params, *_variant(cp)).to_numpy()
    note = (f"{LABELS[agent]}: per-seed exact expected return of the final greedy policy (behaviour at the "
            f"final epsilon: IQM {_iqm(a)} as the {what}).")
    return _samples(vals, note, budget)


@MEASURES.register("fraction_of_optimum", {"agent": ALGO, "final_episodes": FINAL,
                                           "measure": {"enum": ["behaviour", "greedy"]}, **VARIANT})
def fraction_of_optimum(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: the behaviour's final reward (or the greedy policy's exact return) over the oracle optimum."""
    agent, final, a, budget, what = _common(table, params, cp)
    opt = optimal_return(params)
    measure = cp.get("measure", "behaviour")
    src = final_greedy(table, agent, params, *_variant(cp)) if measure == "greedy" else a
    vals = (src / opt).to_numpy()
    words = reads(table, params, agent, *_variant(cp))[2]
    how = ("exact expected return of the final greedy policy" + ("" if words == "its runs" else f" ({words})")
           if measure == "greedy" else f"{what} (epsilon-greedy behaviour at the final epsilon)")
    note = f"{LABELS[agent]}: per-seed {how} divided by the oracle optimum {opt:.4g}."
    return _samples(vals, note, budget)
