"""The named measures of ``taxi_maxq``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Measures, Samples
from . import LABELS, _criterion, _criterion_words, _per_seed_final, speedup_samples

MEASURES = Measures()

ALGO = {"type": "string"}
VARIANTS = {"type": "array", "minItems": 1, "items": {"type": "string"}}
CRITERION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "rule": {"enum": ["first", "stays"]},
        "reference": {"enum": ["recursive_optimal", "optimal"]},
        "tolerance": {"type": "number", "minimum": 0},
        "window": {"type": "integer", "minimum": 1},
    },
}
FINAL = {"agent": ALGO, "variants": VARIANTS,
         "column": {"enum": ["final_policy_return", "final_hierarchical_return", "final_hg_return"]}}


@MEASURES.register("speedup", {"baseline": ALGO, "agent": ALGO, "variants": VARIANTS, "criterion": CRITERION})
def speedup(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per-seed ratio of primitive steps to criterion, baseline / agent; strata = variants."""
    variants = list(cp.get("variants", params["variants"]))
    crit = _criterion(params, cp)
    baseline, agent = cp.get("baseline", "flat_q"), cp.get("agent", "maxq_q_abs")
    vals, info = speedup_samples(table, params, baseline, agent, variants, crit)
    note = (f"{LABELS[baseline]} / {LABELS[agent]}: per-seed ratio of primitive steps to criterion "
            f"({_criterion_words(crit)}); strata = variants {info['variants']}; runs of "
            f"{params['n_steps']} primitive steps; censored runs (counted at their length, a lower bound): "
            f"{info['censored']}. Censoring the baseline lowers the ratio, censoring the agent raises it.")
    return Samples(values=vals, statistic="iqm", note=note, budget=float(params["n_steps"]))


def _final(table: pd.DataFrame, params: dict, cp: dict, kind: str) -> Samples:
    variants = list(cp.get("variants", params["variants"]))
    agent = cp.get("agent", "maxq_q_abs")
    column = cp.get("column", "final_policy_return")
    m, n_improper = _per_seed_final(table, agent, variants, column)
    sub = table[table["variant"].isin(variants)].groupby("variant")
    rec = sub["recursive_optimal_return"].first()
    opt = sub["optimal_return"].first()
    rnd = sub["random_return"].first()
    cols = [v for v in variants if v in rec.index][: m.shape[1]]
    rnd_v = rnd[cols].to_numpy()
    m = np.where(np.isneginf(m), rnd_v[None, :], m)  # an improper final policy scores as the random policy
    if kind == "gap":
        level = rec if cp.get("reference", "recursive_optimal") == "recursive_optimal" else opt
        name = "recursively optimal" if level is rec else "optimal"
        vals = m - level[cols].to_numpy()[None, :]
        what = (f"exact mean return of {LABELS[agent]}'s final greedy policy ({column}) minus the {name} "
                f"mean return (oracle: " + ", ".join(f"{v} {level[v]:.3f}" for v in cols) + ")")
    else:
        vals = (m - rnd_v[None, :]) / (opt[cols].to_numpy() - rnd_v)[None, :]
        what = (f"normalised score (R_final - R_random) / (R_optimal - R_random) of {LABELS[agent]}'s final "
                f"greedy policy ({column}); exact values, R_random = the uniformly random policy's mean return ("
                + ", ".join(f"{v} {rnd[v]:.1f}" for v in cols) + "), R_optimal = the optimum ("
                + ", ".join(f"{v} {opt[v]:.3f}" for v in cols) + ")")
    note = (f"{what}; strata = variants {cols}; after {params['n_steps']} primitive steps; "
            f"{n_improper} run(s) ended with an improper policy (cannot deliver from some start state), "
            f"scored as the uniformly random policy.")
    return Samples(values=vals, statistic="iqm", note=note, budget=float(params["n_steps"]))


@MEASURES.register("gap", {**FINAL, "reference": {"enum": ["recursive_optimal", "optimal"]}})
def gap(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Exact mean return of the agent's final greedy policy minus the (recursively) optimal return."""
    return _final(table, params, cp, "gap")


@MEASURES.register("vs_random", FINAL)
def vs_random(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Normalised score (R_final - R_random) / (R_optimal - R_random) of the final greedy policy."""
    return _final(table, params, cp, "vs_random")
