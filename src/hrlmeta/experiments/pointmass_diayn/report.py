"""What ``pointmass_diayn``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import pandas as pd

from ...tidy import present
from .analysis import (ALGOS, EVAL_MODE, LAYOUT_IDS, final_rows, final_spread, for_skill_count,
                       select_skill_count, crossed_passage, final_coverage, random_policy_spread, passage_skills)


def context(table: pd.DataFrame, params: dict) -> dict:
    # the coverage grid, the passage crossings and the random-policy reference are torch computations

    full = table
    table = for_skill_count(table, select_skill_count(table, params))  # the primary skill count
    f = final_rows(table)
    final = []
    for lay in present(f, list(LAYOUT_IDS), column="layout"):
        for algo in present(f, ALGOS):
            for mode in ("stochastic", "deterministic"):
                g = f[(f["layout"] == lay) & (f["algo"] == algo) & (f["eval_mode"] == mode)]
                s = g.groupby("seed").agg(acc=("acc", "mean"), fresh=("fresh_acc", "first"),
                                          cover=("coverage", "first"), ret=("return", "mean")).mean()
                final.append({"layout": lay, "algo": algo, "mode": mode, "acc": s["acc"], "fresh": s["fresh"],
                              "cover": s["cover"], "ret": s["ret"]})
    coverage = None
    if set(ALGOS) <= set(f["algo"]):
        bound = float(params["env"]["bound"])
        coverage = []
        for mode in ("stochastic", "deterministic"):
            for eps in (1, None):
                diffs = []
                for g in (5, 10, 20):
                    c = final_coverage(table, g, mode, eps, bound)
                    diffs.append((c.xs("diayn", level="algo") - c.xs("random_skills", level="algo")).dropna().mean())
                coverage.append({"mode": mode, "episodes": "all" if eps is None else eps, "diffs": diffs})
    cr = crossed_passage(table, params)
    crossed = ([] if cr.empty else
               [{"algo": a, "mode": m, "share": v} for (a, m), v in cr.groupby(["algo", "eval_mode"]).mean().items()])
    lays = present(full, list(LAYOUT_IDS), column="layout")
    return {"seeds": table["seed"].nunique(), "K": int(table["num_skills"].max()),
            "grid": int(params["eval"]["coverage_grid"]), "eval_mode": EVAL_MODE, "final": final,
            "coverage": coverage, "crossed": crossed, "lays": lays, "spread": _spread_rows(full, params, lays),
            "random_policy": [{"layout": lay, "spread": random_policy_spread(params, lay)} for lay in lays]}


def _spread_rows(table: pd.DataFrame, params: dict, lays: list[str]) -> list[dict]:
    """The quantities of ``diayn_end_spread`` and ``diayn_passage`` per skill count, algorithm and evaluation
    mode (means over seeds): ``spreads`` one pre-formatted cell per layout ("" where the layout has no run),
    ``through`` the skills through the passage (None where not measured)."""

    counts = [k for k in (select_skill_count(table, params), select_skill_count(table, params, "other"))
              if k is not None and k in set(table["num_skills"])]
    rows = []
    for K in counts:
        t = for_skill_count(table, K)
        for algo in present(t, ALGOS):
            for mode in ("deterministic", "stochastic"):
                sp = final_spread(t, mode)
                cells = []
                for lay in lays:
                    try:
                        cells.append(f"{sp.xs((algo, lay), level=('algo', 'layout')).mean():.3f}")
                    except KeyError:
                        cells.append("")
                through = None
                if "passage" in lays:
                    ps = passage_skills(t, params, mode)
                    has = len(ps) and algo in set(ps.index.get_level_values("algo"))
                    through = ps.xs(algo, level="algo").mean() if has else None
                rows.append({"K": K, "algo": algo, "mode": mode, "spreads": cells, "through": through})
    return rows
