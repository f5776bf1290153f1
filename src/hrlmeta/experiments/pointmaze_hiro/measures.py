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
from . import _budget, _goal_label, _paired, _score, schedule, steps_to_threshold

MEASURES = Measures()

COMMON = {"final_window": {"type": "integer", "minimum": 1},
          "goal": {"type": "string", "pattern": r"^(mean|-?[0-9.]+,-?[0-9.]+)$"},
          "measure": {"enum": ["auc", "final"]}}


def _window(params: dict, cp: dict) -> int:
    return int(cp.get("final_window", params.get("analysis", {}).get("final_window", 3)))


@MEASURES.register("success_difference", {**COMMON, "agent": {"enum": ["hiro", "hiro_no_correction", "feudal", "td3"]},
                                          "baseline": {"enum": ["td3", "hiro_no_correction", "feudal", "hiro"]}},
                   required=["baseline"])
def success_difference(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: ``agent``'s (default HIRO) success AUC (or final success) minus ``baseline``'s, paired by seed."""
    budget = _budget(table)
    window = _window(params, cp)
    algo, other = cp.get("agent", "hiro"), cp["baseline"]
    (h, what), (o, _) = _score(table, algo, cp, window), _score(table, other, cp, window)
    h, o = _paired(h, o)
    return Samples(
        (h - o).to_numpy(), statistic="mean", budget=budget, n_seeds=len(h),
        note=f"per seed: {algo} minus {other} {what} on {_goal_label(cp.get('goal', 'mean'))} "
             f"(success = final distance < {schedule(params)['radius']:g}), {budget:.0f} env steps; paired by seed; "
             f"{len(h)} seeds; means {h.mean():.3f} vs {o.mean():.3f}")


@MEASURES.register("sample_efficiency", {"goal": COMMON["goal"],
                                         "threshold": {"type": "number", "minimum": 0, "maximum": 1},
                                         "censor": {"enum": ["budget", "inf"]}})
def sample_efficiency(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: env steps until the success rate first reaches ``threshold``, FeUdal-style / HIRO; runs
    that never reach it are censored at the budget + one evaluation interval (or infinity)."""
    sc = schedule(params)
    budget = _budget(table)
    thr = float(cp.get("threshold", 0.5))
    goal = cp.get("goal", "mean")
    mode = cp.get("censor", "budget")
    cval = (budget or 0.0) + sc["every"] if mode == "budget" else math.inf
    f, fc = steps_to_threshold(table, "feudal", thr, cval, goal)
    h, hc = steps_to_threshold(table, "hiro", thr, cval, goal)
    f, h = _paired(f, h)
    fc, hc = fc[f.index], hc[h.index]
    both = fc & hc
    ratio = (f / h)[~both]
    return Samples(
        ratio.to_numpy(), statistic="iqm", n_seeds=int(len(ratio)), budget=budget,
        note=f"per seed: env steps until the success rate on {_goal_label(goal)} first reaches {thr}, FeUdal-style / "
             f"HIRO; censored runs (never reached within {budget:.0f} steps) count as "
             + ("budget + one evaluation interval (a censored FeUdal run gives a lower bound on the ratio)"
                if mode == "budget" else "infinity")
             + f"; censored: FeUdal {int(fc.sum())}/{len(fc)}, HIRO {int(hc.sum())}/{len(hc)}; "
             f"{int(both.sum())} seed(s) censored for both dropped (no information)")


@MEASURES.register("stability", COMMON)
def stability(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: |FeUdal score - its median over seeds| minus the same for HIRO (across-seed spread)."""
    budget = _budget(table)
    window = _window(params, cp)
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
