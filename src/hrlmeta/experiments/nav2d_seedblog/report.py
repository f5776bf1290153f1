"""What ``nav2d_seedblog``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import pandas as pd

from ...tidy import present
from .analysis import ALGOS, adapt_rows, audit_summary


def context(table: pd.DataFrame, params: dict) -> dict:
    summ = audit_summary(table)
    audit = [{"algo": algo, "cells": [f"{v:.3g}" for v in r.values]} for algo, r in summ.iterrows()]
    crashes = []
    mt = table[table["phase"] == "meta_train"]
    if "nan_skipped" in mt.columns and not mt.empty:
        first = mt[mt["nan_skipped"]].groupby(["algo", "seed"])["iteration"].min()
        for algo in sorted(mt["algo"].unique()):
            sub = mt[mt["algo"] == algo]
            crashed = first.loc[algo] if algo in first.index.get_level_values(0) else pd.Series(dtype=float)
            crashes.append({"algo": algo, "crashed": len(crashed), "n_seeds": sub["seed"].nunique(),
                            "first": int(crashed.median()) if len(crashed) else "n/a",
                            "skipped": int(sub["nan_skipped"].sum())})
    adapt = []
    ad = adapt_rows(table)
    for algo in (present(ad, ALGOS) if not ad.empty else []):
        s = ad[ad["algo"] == algo].groupby("step")["return"].mean()
        k = s.index.max()
        adapt.append({"algo": algo, "before": s[0], "after": s[k], "gain": s[k] - s[0]})
    return {"audit": audit, "audit_columns": list(summ.columns), "crashes": crashes, "adapt": adapt,
            "adapt_shown": not ad.empty}
