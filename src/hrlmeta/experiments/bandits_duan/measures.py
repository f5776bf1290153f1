"""The named measures of ``bandits_duan``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from .analysis import _eval, rl2_budget

MEASURES = Measures()


@MEASURES.register("eval_return", {"algo": {"type": "string"}, "n": {"type": "integer", "minimum": 1},
                                   "k": {"type": "integer", "minimum": 2}, "published": {"type": "number"}},
                   required=["algo", "n", "k"])
def eval_return(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: the mean total reward over the evaluation tasks of cell (n, k). ``published`` is the
    paper's value (for the report's comparison; not used in the measurement)."""
    algo, n, k = cp["algo"], int(cp["n"]), int(cp["k"])
    ev = _eval(table)
    sub = ev[(ev["algo"] == algo) & (ev["n"] == n) & (ev["k"] == k)].sort_values("seed")
    budget = {}
    if algo == "rl2":
        tr = table[(table["phase"] == "meta_train") & (table["algo"] == algo) & (table["n"] == n)
                   & (table["k"] == k)]
        budget = rl2_budget(sub, tr, n)
    vals = sub["return"].to_numpy(dtype=float)
    if vals.size == 0:
        note = f"{algo} was not run in cell n={n}, k={k} at this scale; no estimate"
    else:
        note = (f"mean over {vals.size} seed(s) of the mean total reward over "
                f"{int(sub['n_tasks'].iloc[0])} evaluation tasks per seed")
        if sub["hparam"].iloc[0]:
            note += f"; tuned: {', '.join(sorted(set(sub['hparam'])))}"
        if algo == "gittins":
            note += f"; method: {sub['method'].iloc[0]}"
    return Samples(values=vals, statistic="mean", note=note, n_seeds=int(vals.size),
                   budget=budget.get("budget"), extra={"cost_s": budget.get("cost_s")})
