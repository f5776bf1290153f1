"""What ``bandits_duan``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import pandas as pd

from ...tidy import present
from .analysis import ALGOS, LABELS, _cell, _cells, _published, _summary
from .oracle import oracle


def context(table: pd.DataFrame, params: dict) -> dict:
    summ = _summary(table)
    pub = _published()
    cells = _cells(table)
    rows = []
    for a in present(summ, ALGOS):
        texts = []
        for n, k in cells:
            s = summ[(summ["algo"] == a) & (summ["cell"] == _cell(n, k))]
            txt = "—" if s.empty else f"{s['mean'].iloc[0]:.2f} [{s['lo'].iloc[0]:.2f}, {s['hi'].iloc[0]:.2f}]"
            if (a, _cell(n, k)) in pub:
                txt += f" ({pub[(a, _cell(n, k))]:g})"
            texts.append(txt)
        rows.append({"label": LABELS[a], "cells": texts})
    orc = oracle({"cells": [{"n": n, "k": k} for n, k in cells],
                  "gittins_exact_max_n": params.get("gittins_exact_max_n", 12)})["bayes_optimal_total_reward"]
    tuned = summ[summ["hparam"] != ""]
    rl2 = []
    tr = table[table["phase"] == "meta_train"]
    for (n, k), g in (tr.groupby(["n", "k"]) if not tr.empty else []):
        iters = int(g["iteration"].max()) + 1
        cfg = next((c for c in params["rl2"]["cells"] if c["n"] == n and c["k"] == k), {})
        batch = int(cfg.get("batch_tasks", params["rl2"]["ppo"]["batch_tasks"]))
        rl2.append({"n": int(n), "k": int(k), "iterations": iters, "steps": iters * batch * int(n),
                    "seeds": g["seed"].nunique(), "median_wall_s": float(g["wall_s"].median())})
    return {
        "cells": [f"n={n}, k={k}" for n, k in cells],
        "rows": rows,
        "oracle": ", ".join(f"{c}: {v:.3f}" for c, v in orc.items()),
        "tuned": "; ".join(f"{LABELS[r.algo]} {r.cell}: {r.hparam}" for r in tuned.itertuples() if r.algo != "rl2")
        if not tuned.empty else None,
        "rl2": rl2,
    }
