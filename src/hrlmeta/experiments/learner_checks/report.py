"""What ``learner_checks``' report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import pandas as pd

from .analysis import ALGOS, LEARNERS, eval_rows, final_returns


def context(table: pd.DataFrame, params: dict) -> dict:
    rows = []
    for algo in ALGOS:
        if algo not in set(table["algo"]):
            continue
        ref = (params.get(algo) or {}).get("reference") or {}
        fr = final_returns(table, algo)
        rows.append({"algo": algo, "learner": LEARNERS[algo], "env": str(eval_rows(table, algo)["env"].iloc[0]),
                     "seeds": len(fr), "final": fr.mean(), "reference": ref or None})
    return {"rows": rows}
