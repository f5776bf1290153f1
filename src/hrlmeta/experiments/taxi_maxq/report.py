"""What ``taxi_maxq``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...shared.criterion import censored_iqm_text
from ...stats import iqm
from ...tidy import present
from .analysis import ALGOS, LABELS, _criterion_words, criterion_table, mean_curve_crossings, speedup_samples


def value_counts() -> dict:
    """Stored values of each representation, from the agents' own table layouts."""
    from ...algos.maxq_q import table_sizes

    c0, v0 = table_sizes(False)
    c1, v1 = table_sizes(True)
    return {"flat_q": 500 * 6, "maxq_q": int(c0.sum() + v0.sum()), "maxq_q_abs": int(c1.sum() + v1.sum())}


def _steps(x: float) -> str:
    return "never" if not np.isfinite(x) else f"{x:,.0f}"


def _ratio(r: float) -> str:
    return ("undefined (neither reaches)" if np.isnan(r) else "inf (flat Q never reaches)" if np.isinf(r)
            else "0 (agent never reaches)" if r == 0 else f"{r:.2f}x")


def context(table: pd.DataFrame, params: dict) -> dict:
    crit = params["criterion"]
    algos = present(table, ALGOS)
    variants = present(table, params["variants"], "variant")
    ct = criterion_table(table, params)
    rows = []
    for v in variants:
        tv = table[table["variant"] == v]
        cells = []
        for a in algos:
            s = ct[(ct["variant"] == v) & (ct["algo"] == a)]
            fin = tv[tv["algo"] == a].groupby("seed")["final_policy_return"].first().to_numpy()
            fin = fin[np.isfinite(fin)]
            cells.append("–" if s.empty else
                         f"{censored_iqm_text(s, 'stc')} / {float(np.median(fin)) if fin.size else float('nan'):.3f}")
        rows.append({"variant": v, "optimal": f"{tv['optimal_return'].iloc[0]:.3f}",
                     "recursive_optimal": f"{tv['recursive_optimal_return'].iloc[0]:.3f}",
                     "random": f"{tv['random_return'].iloc[0]:.1f}", "cells": cells})
    speedups = []
    for agent in [a for a in algos if a != "flat_q"]:
        vals, info = speedup_samples(table, params, "flat_q", agent, list(params["variants"]))
        if vals.size:
            speedups.append({"label": LABELS[agent], "per": ", ".join(
                f"{v}: {float(iqm(vals[:, [j]])):.2f}x" for j, v in enumerate(info["variants"]))})
    crossings = []
    for v in variants:
        cross = mean_curve_crossings(table, params, v)
        ratios = []
        for a in algos:
            if a == "flat_q":
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios.append(_ratio(np.float64(cross.get("flat_q", np.inf)) / np.float64(cross.get(a, np.inf))))
        crossings.append({"variant": v, "steps": [_steps(cross.get(a, np.inf)) for a in algos], "ratios": ratios})
    return {
        "n_seeds": table["seed"].nunique(),
        "criterion_words": _criterion_words(crit),
        "counts": value_counts(),
        "labels": [LABELS[a] for a in algos],
        "agent_labels": [LABELS[a] for a in algos if a != "flat_q"],
        "rows": rows,
        "speedups": speedups,
        "curve_step": int(crit["curve_step"]),
        "hold": int(crit["hold"]),
        "crossing_columns": 2 * len(algos) - (1 if "flat_q" in algos else 0),
        "crossings": crossings,
    }
