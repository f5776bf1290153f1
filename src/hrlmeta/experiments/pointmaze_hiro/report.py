"""What ``pointmaze_hiro``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import math

import pandas as pd

from ...tidy import present
from .analysis import ALGOS, LABELS, _budget, final_success, median_steps, schedule, steps_to_threshold, success_auc

#: Nachum et al. (2018), Table 1: "Performance of the best policy obtained in 10M steps of training,
#: averaged over 10 randomly seeded trials with standard error" (Ant Gather: reward; others: success rate)
TABLE1 = {
    "HIRO": {"Ant Gather": (3.02, 1.49), "Ant Maze": (0.99, 0.01), "Ant Push": (0.92, 0.04), "Ant Fall": (0.66, 0.07)},
    "FuN representation": {"Ant Gather": (0.03, 0.01), "Ant Maze": (0.0, 0.0), "Ant Push": (0.0, 0.0),
                           "Ant Fall": (0.0, 0.0)},
    "FuN transition PG": {"Ant Gather": (0.41, 0.06), "Ant Maze": (0.0, 0.0), "Ant Push": (0.56, 0.39),
                          "Ant Fall": (0.01, 0.02)},
    "FuN cos similarity": {"Ant Gather": (0.85, 1.17), "Ant Maze": (0.16, 0.33), "Ant Push": (0.06, 0.17),
                           "Ant Fall": (0.07, 0.22)},
    "FuN": {"Ant Gather": (0.01, 0.01), "Ant Maze": (0.0, 0.0), "Ant Push": (0.0, 0.0), "Ant Fall": (0.0, 0.0)},
    "SNN4HRL": {"Ant Gather": (1.92, 0.52), "Ant Maze": (0.0, 0.0), "Ant Push": (0.02, 0.01), "Ant Fall": (0.0, 0.0)},
    "VIME": {"Ant Gather": (1.42, 0.90), "Ant Maze": (0.0, 0.0), "Ant Push": (0.02, 0.02), "Ant Fall": (0.0, 0.0)},
}
#: the rows of Table 1 that one of our agents stands beside
OURS = {"HIRO": "hiro", "FuN": "feudal"}


def _mse(x: pd.Series) -> dict:
    """Mean over seeds and its standard error (0 for one seed)."""
    se = x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else 0.0
    return {"mean": x.mean(), "se": se}


def _steps(table: pd.DataFrame, algo: str, goal=None) -> dict:
    """Steps to 50% success: the median over seeds (None where censored) and the censored count."""
    st, cens = steps_to_threshold(table, algo, 0.5, math.inf, goal)
    return {"median": median_steps(st, cens), "censored": int(cens.sum()), "runs": len(cens)}


def context(table: pd.DataFrame, params: dict) -> dict:
    sc = schedule(params)
    window = int(params["analysis"]["final_window"])
    order = present(table, ALGOS)
    rows, far = [], []
    for a in order:
        rows.append({"label": LABELS.get(a, a), "steps": _steps(table, a), "auc": _mse(success_auc(table, a)),
                     "finals": [_mse(final_success(table, a, window, f"{g[0]},{g[1]}")) for g in sc["goals"]]})
    for a in order:
        far.append({"label": LABELS.get(a, a), "auc": _mse(success_auc(table, a, "0,8")),
                    "steps": _steps(table, a, "0,8")})
    published = []
    for m, row in TABLE1.items():
        mine = final_success(table, OURS[m], window).mean() if OURS.get(m) in order else None
        published.append({"method": m, "cells": list(row.values()), "ours": mine,
                          "ours_label": LABELS[OURS[m]] if mine is not None else None})
    unlisted = [{"label": LABELS[a], "ours": final_success(table, a, window).mean()}
                for a in ("td3", "hiro_no_correction") if a in order]
    return {"goals": sc["goal_strs"], "radius": sc["radius"], "budget": _budget(table) or 0,
            "seeds": table["seed"].nunique(), "window": window, "rows": rows, "far": far,
            "published": published, "unlisted": unlisted}
