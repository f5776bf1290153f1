"""The values the reports of the Directed-MAML task-family experiments show (``cartpole_meta``,
``cartpole_flip_meta``, ``lunarlander_meta``): ``context(table, params, threshold)``, rendered by each
experiment's ``report.md`` (whose prose is its own)."""

from __future__ import annotations

import pandas as pd

from ..tidy import present
from .meta_task_family_analysis import ALGOS, TRAINED, _criterion, adapt_at, convergence_table, cost_rows
from .torch_runs import adapt_rows


def context(table: pd.DataFrame, params: dict, threshold: float = 175.0) -> dict:
    """Held-out adaptation per algorithm (each run's last evaluation), the return after 1 adaptation step
    by checkpoint, meta-iterations / environment steps to the return ``threshold``, and the interleaved
    seconds per meta-iteration."""
    ad = adapt_at(table)
    adapt = []
    for a in present(ad, ALGOS):
        s = ad[ad["algo"] == a].groupby("step")["return"].mean().sort_index()
        adapt.append({"algo": a, "cells": [f"{v:.1f}" for v in s.values]})
    ck = adapt_rows(table)
    ck = ck[(ck["algo"] != "random_init") & (ck["step"] == 1)]
    ck_columns, ck_rows = [], []
    if ck["iteration"].nunique() > 1:
        p = ck.pivot_table(index="algo", columns="iteration", values="return", aggfunc="mean")
        ck_columns = [f"{c} it." for c in p.columns]
        ck_rows = [{"algo": a, "cells": [f"{v:.1f}" for v in p.loc[a].values]} for a in present(ck, ALGOS)]
    mt = table[table["phase"] == "meta_train"]
    conv_rows, thr, win = [], None, None
    if not mt.empty:
        thr, win = _criterion({"criterion": {"threshold": threshold}})
        ct = convergence_table(table, thr, win)
        g = ct.groupby("algo").agg(iters=("iters", "median"), cens=("censored", "sum"),
                                   steps=("env_steps", "median"))
        conv_rows = [{"algo": a, "iters": r.iters, "steps": r.steps, "censored": int(r.cens)} for a, r in g.iterrows()]
    cost = cost_rows(table)
    timing, directed_over_maml, half_fraction = [], None, None
    if not cost.empty:
        m = cost.median()
        timing = [f"{a} {m[a]:.3f}" for a in TRAINED if a in m]
        if {"maml", "directed_maml"} <= set(m.index):
            directed_over_maml = m["directed_maml"] / m["maml"]
            # the share of MAML's iterations that halves the computation time at this cost per iteration
            half_fraction = 0.5 * m["maml"] / m["directed_maml"]
    return {
        "n_seeds": table["seed"].nunique(),
        "steps": [f"{k} steps" for k in sorted(ad["step"].unique())],
        "adapt": adapt,
        "ck_columns": ck_columns,
        "ck_rows": ck_rows,
        "convergence": not mt.empty,
        "conv_threshold": thr,
        "conv_window": win,
        "conv_rows": conv_rows,
        "timing": timing,
        "directed_over_maml": directed_over_maml,
        "half_fraction": half_fraction,
    }
