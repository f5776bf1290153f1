"""What ``tabular_mdp_duan``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import pandas as pd

from ...tidy import present
from .analysis import ALGOS, LABELS, _published, _summary


def context(table: pd.DataFrame, params: dict) -> dict:
    summ = _summary(table)
    pub = _published()
    ns = sorted(summ["n"].unique())
    rows = []
    for a in present(summ, list(ALGOS) + ["best_baseline"]):
        cells = []
        for n in ns:
            s = summ[(summ["algo"] == a) & (summ["n"] == n)]
            txt = "—" if s.empty else f"{s['mean'].iloc[0]:.1f} [{s['lo'].iloc[0]:.1f}, {s['hi'].iloc[0]:.1f}]"
            if (a, n) in pub:
                txt += f" ({pub[(a, n)]:g})"
            cells.append(txt)
        rows.append({"label": LABELS[a], "cells": cells})
    tuned = summ[(summ["hparam"] != "") & (summ["algo"] != "rl2")]
    rl2 = []
    tr = table[table["phase"] == "meta_train"]
    for n, g in tr.groupby("n"):
        iters = int(g["iteration"].max()) + 1
        cfg = next((c for c in params["rl2"]["cells"] if int(c["n"]) == n), {})
        bt = int(cfg.get("batch_tasks", params["rl2"]["ppo"]["batch_tasks"]))
        rl2.append({"n": n, "iterations": iters, "batch": bt, "steps": iters * bt * n * params["horizon"],
                    "seeds": g["seed"].nunique(), "median_wall_s": g["wall_s"].median()})
    return {
        "ns": [f"n={n}" for n in ns],
        "rows": rows,
        "tuned": [f"{LABELS[r.algo]} n={r.n}: {r.hparam}" for r in tuned.itertuples()],
        "rl2": rl2,
    }
