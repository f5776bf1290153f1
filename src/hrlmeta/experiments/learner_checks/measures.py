"""The named measures of ``learner_checks``' claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Measures, Samples
from .analysis import eval_rows, final_returns

MEASURES = Measures()


@MEASURES.register("eval_return", {"algo": {"type": "string"},
                                   "at_steps": {"type": ["integer", "null"], "minimum": 1},
                                   "last_k": {"type": "integer", "minimum": 1}},
                   required=["algo"])
def eval_return(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: the mean evaluation return over the last ``last_k`` evaluation points at or before
    ``at_steps`` training environment steps (the whole run when null)."""
    algo, at, k = cp["algo"], cp.get("at_steps"), int(cp.get("last_k", 1))
    fr = final_returns(table, algo, at, k)
    t = eval_rows(table, algo)
    steps = int(t[t["env_steps"] <= at]["env_steps"].max()) if at is not None and len(t) else (
        int(t["env_steps"].max()) if len(t) else 0)
    return Samples(fr.to_numpy(dtype=float), statistic="mean", n_seeds=len(fr), budget=float(steps) if len(t) else None,
                   note=f"{algo}: mean evaluation return of the last {k} evaluation point(s) at or before "
                        f"{steps:,} training steps, {len(fr)} seeds")


@MEASURES.register("column", {"algo": {"type": "string"}, "column": {"type": "string"},
                              "reduce": {"enum": ["max", "min", "mean", "last"]}},
                   required=["algo", "column", "reduce"])
def column(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: ``reduce`` (max / min / mean / last) of a logged column over the run's evaluation rows,
    e.g. the largest KL divergence of any accepted TRPO step relative to its bound."""
    t = eval_rows(table, cp["algo"])
    col, red = cp["column"], cp["reduce"]
    if col not in t:
        return Samples(np.empty(0), statistic="mean", note=f"{cp['algo']}: no column {col!r} in its runs")
    g = t.groupby("seed")[col]
    v = {"max": g.max, "min": g.min, "mean": g.mean, "last": g.last}[red]()
    return Samples(v.to_numpy(dtype=float), statistic="mean", n_seeds=len(v),
                   note=f"{cp['algo']}: per seed, the {red} of {col} over the run")
