"""What ``nav2d_finn``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import pandas as pd

from ...tidy import present
from .analysis import ALGOS, adapt_rows, cost_sweep


def context(table: pd.DataFrame, params: dict) -> dict:
    ad = adapt_rows(table)
    rows = []
    for a in present(ad, ALGOS):
        s = ad[ad["algo"] == a].groupby("step")["return"].mean().sort_index()
        rows.append({"algo": a, "cells": [f"{v:.2f}" for v in s.values]})
    mt = table[table["phase"] == "meta_train"]
    median_wall, ratio = [], None
    if not mt.empty:
        med = mt.groupby("algo")["wall_s"].median()
        median_wall = [f"{a} {med[a]:.3f} s" for a in med.index]
        if {"maml", "fomaml"} <= set(med.index):
            ratio = float(med["maml"] / med["fomaml"])
    cost = cost_sweep(table)
    sweep = []
    if not cost.empty:
        g = cost.groupby("width")[["s_maml", "s_fomaml", "ratio"]].median().sort_index()
        sweep = [{"width": w, "s_maml": r.s_maml, "s_fomaml": r.s_fomaml, "ratio": r.ratio} for w, r in g.iterrows()]
    return {
        "n_seeds": table["seed"].nunique(),
        "steps": [f"{k} steps" for k in sorted(ad["step"].unique())],
        "rows": rows,
        "median_wall": median_wall,
        "ratio": ratio,
        "sweep": sweep,
    }
