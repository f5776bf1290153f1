"""The named measures of ``tabular_mdp_duan``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from ...shared.rl2_budget import rl2_budget
from .analysis import LEARNERS, _eval, _per_seed

MEASURES = Measures()


@MEASURES.register("eval_return", {"algo": {"type": "string"}, "n": {"type": "integer", "minimum": 1},
                                   "published": {"type": "number"}},
                   required=["algo", "n"])
def eval_return(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: the mean total reward over the evaluation tasks of n episodes (``best_baseline``: per seed
    the best learner, paired on the same tasks). ``published`` is the paper's value (for the report)."""
    algo, n = cp["algo"], int(cp["n"])
    vals = _per_seed(table, algo, n)
    if vals.size == 0:
        note = f"{algo} was not run for n={n} episodes at this scale; no estimate"
    else:
        note = f"mean over {vals.size} seed(s) of the mean total reward over the evaluation tasks of each seed"
        if algo == "best_baseline":
            present = sorted(set(_eval(table)["algo"]) & set(LEARNERS))
            note += f"; per seed the best of {', '.join(present)} (paired on the same tasks)"
    budget = {}
    if algo == "rl2":
        ev = _eval(table)
        rows = table[(table["algo"] == algo) & (table["n"] == n)]
        budget = rl2_budget(ev[(ev["algo"] == algo) & (ev["n"] == n)], rows[rows["phase"] == "meta_train"],
                            n * int(params["horizon"]))
    return Samples(values=vals, statistic="mean", note=note, n_seeds=int(vals.size),
                   budget=budget.get("budget"), extra={"cost_s": budget.get("cost_s")})
