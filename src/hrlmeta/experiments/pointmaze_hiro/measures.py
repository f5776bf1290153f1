"""The named measures of ``pointmaze_hiro``'s claims (``claims.yaml`` selects one with ``measure:``).

Every measure is defined whether or not an agent ever succeeds: the success-rate area under the curve
(mean success over training, 0 for an agent that never succeeds) and the steps to a success threshold
censored at the budget (the note counts the censored seeds). ``goal``: ``mean`` (the mean of the per-goal
success rates over the released evaluation goals) or one goal ``"x,y"`` (e.g. ``"0,8"``, the far end).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...claims import Measures, Samples
from .analysis import _budget, _goal_label, _paired, _score, median_steps, schedule, steps_to_threshold, success_auc

MEASURES = Measures()

COMMON = {"final_window": {"type": "integer", "minimum": 1},
          "goal": {"type": "string", "pattern": r"^(mean|-?[0-9.]+,-?[0-9.]+)$"},
          "measure": {"enum": ["auc", "final"]}}


def _window(params: dict, cp: dict) -> int:
    return int(cp.get("final_window", params["analysis"]["final_window"]))


def _never(table: pd.DataFrame, algo: str, goal) -> bool:
    """True where no run of ``algo`` succeeded in any evaluation on ``goal`` (success AUC 0 for every seed)."""
    auc = success_auc(table, algo, None if goal in (None, "mean") else goal)
    return bool(len(auc) == 0 or (auc <= 0).all())


@MEASURES.register("success_difference", {**COMMON, "agent": {"enum": ["hiro", "hiro_no_correction", "feudal", "td3"]},
                                          "baseline": {"enum": ["td3", "hiro_no_correction", "feudal", "hiro"]},
                                          "floor": {"enum": ["compare", "undefined"]}},
                   required=["baseline"])
def success_difference(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: ``agent``'s (default HIRO) success AUC (or final success) minus ``baseline``'s, paired by seed.

    ``floor``: ``compare`` (default) compares whatever the runs did, 0 with 0 where neither agent ever
    succeeds (a claim of a difference then fails under the budget); ``undefined`` gives no samples
    (inconclusive) when neither agent ever succeeded on the goal: a claim of *no large difference* cannot be
    decided by two agents that both never arrive."""
    budget = _budget(table)
    window = _window(params, cp)
    algo, other = cp.get("agent", "hiro"), cp["baseline"]
    goal = cp.get("goal", "mean")
    if cp.get("floor", "compare") == "undefined" and _never(table, algo, goal) and _never(table, other, goal):
        return Samples(np.empty(0), statistic="mean", budget=budget, n_seeds=0,
                       note=f"undefined: neither {algo} nor {other} succeeded in any evaluation on "
                            f"{_goal_label(goal)} within {budget:.0f} env steps (0 vs 0 says nothing of the "
                            "difference the correction makes)")
    (h, what), (o, _) = _score(table, algo, cp, window), _score(table, other, cp, window)
    h, o = _paired(h, o)
    return Samples(
        (h - o).to_numpy(), statistic="mean", budget=budget, n_seeds=len(h),
        note=f"per seed: {algo} minus {other} {what} on {_goal_label(cp.get('goal', 'mean'))} "
             f"(success = final distance < {schedule(params)['radius']:g}), {budget:.0f} env steps; paired by seed; "
             f"{len(h)} seeds; means {h.mean():.3f} vs {o.mean():.3f}")


@MEASURES.register("sample_efficiency", {"goal": COMMON["goal"],
                                         "threshold": {"type": "number", "minimum": 0, "maximum": 1}})
def sample_efficiency(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """FeUdal-style's over HIRO's environment steps until the success rate first reaches ``threshold``, as a
    ratio of the two agents' medians over their seeds (statistic ``median_ratio`` or ``iqm_ratio``).

    Values are shaped (runs, 2): column 0 FeUdal, column 1 HIRO, each agent's seeds independent (the
    stratified bootstrap resamples each column on its own), so every seed of both agents counts. A run
    that never reaches the threshold is censored: +inf (slower than any finite run), which the median
    handles exactly while fewer than half an agent's runs are censored; a ratio of two censored medians
    is undefined (NaN: inconclusive)."""
    budget = _budget(table)
    thr = float(cp.get("threshold", 0.5))
    goal = cp.get("goal", "mean")
    f, fc = steps_to_threshold(table, "feudal", thr, math.inf, goal)
    h, hc = steps_to_threshold(table, "hiro", thr, math.inf, goal)
    n = min(len(f), len(h))
    if len(f) != len(h):  # columns must have equal length: the first n seeds of each (sorted)
        f, fc, h, hc = f.sort_index()[:n], fc.sort_index()[:n], h.sort_index()[:n], hc.sort_index()[:n]
    values = np.column_stack([f.to_numpy(), h.to_numpy()]) if n else np.empty((0, 2))

    def med(x: pd.Series, c: pd.Series) -> str:
        m = median_steps(x, c)
        return "censored" if m is None else f"{m:.0f}"

    undecidable = ("; undecidable: no FeUdal-style run reaches the threshold within the budget (as in the paper's "
                   "Table 1, where every FuN variant but one scores 0.0 on Ant Maze), so no ratio of steps exists"
                   if len(fc) and bool(fc.all()) else "")

    return Samples(
        values, statistic="median_ratio", n_seeds=n, budget=budget,
        note=f"env steps until the success rate on {_goal_label(goal)} first reaches {thr}: FeUdal-style's median "
             f"over its seeds / HIRO's; each agent's {n} seeds resampled on their own (not paired); a run that "
             f"never reaches it within {budget:.0f} steps is censored (+inf; an agent's median is then exact while "
             f"fewer than half its runs are censored, a ratio of two censored medians is undefined); censored: "
             f"FeUdal {int(fc.sum())}/{len(fc)}, HIRO {int(hc.sum())}/{len(hc)}; medians: FeUdal {med(f, fc)}, "
             f"HIRO {med(h, hc)}{undecidable}")


@MEASURES.register("stability", {**COMMON, "require_success": {"type": "boolean"}})
def stability(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: |FeUdal score - its median over seeds| minus the same for HIRO (across-seed spread).

    ``require_success``: no samples (inconclusive, the note says why) when either agent never succeeded in
    any evaluation on the goal: an agent that never succeeds has spread 0, which would read as "stable"."""
    budget = _budget(table)
    window = _window(params, cp)
    goal = cp.get("goal", "mean")
    if cp.get("require_success", False):
        never = [a for a in ("feudal", "hiro") if _never(table, a, goal)]
        if never:
            names = " and ".join({"feudal": "the FeUdal-style agent", "hiro": "HIRO"}[a] for a in never)
            return Samples(np.empty(0), statistic="mean", budget=budget, n_seeds=0,
                           note=f"undefined: {names} never succeeded in any evaluation on {_goal_label(goal)} within "
                                f"{budget:.0f} env steps; the spread of an agent that never succeeds is 0, which is "
                                "not stability")
    (f, what), (h, _) = _score(table, "feudal", cp, window), _score(table, "hiro", cp, window)
    f, h = _paired(f, h)
    dev = (f - f.median()).abs() - (h - h.median()).abs()
    return Samples(
        dev.to_numpy(), statistic="mean", budget=budget, n_seeds=len(f),
        note=f"per seed: |FeUdal {what} - its median over seeds| minus the same for HIRO, on "
             f"{_goal_label(cp.get('goal', 'mean'))}; mean > 0: HIRO's across-seed spread is smaller. "
             f"Std over seeds: FeUdal {f.std(ddof=1):.3f}, HIRO {h.std(ddof=1):.3f}; {len(f)} seeds")


@MEASURES.register("published", {"published": {"type": "string"}}, required=["published"])
def published(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """A row of the paper's Table 1 that is not re-run here: no seeds (inconclusive), the source in the note."""
    return Samples(np.empty((0,)), statistic="mean", n_seeds=0, budget=_budget(table),
                   note=f"published in Nachum et al. (2018), Table 1 (row {cp['published']}); "
                        "MuJoCo Ant, 10M steps: not re-run here")
