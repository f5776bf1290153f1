"""The named measures of ``taxi_maxq``'s claims (``claims.yaml`` selects one with ``measure:``).

``reading`` (speed-up and steps measures): ``mean_curve`` reads the learning curve averaged over seeds, as the
paper reads its Figs. 7 / 8 (the crossing of that curve; decided by the seed-level bootstrap of the curves in
``Samples.extra["bootstrap"]``, see :mod:`.curves`); ``per_seed`` (the default) times each seed's own curve and
decides on the per-seed values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Measures, Samples
from .analysis import (LABELS, _criterion, _criterion_words, _per_seed_final, criterion_table, reference_return,
                       seed_curves, speedup_samples)
from .curves import Criterion, CurveBootstrap, crossing_steps, grid, spec_key

MEASURES = Measures()

ALGO = {"type": "string"}
VARIANTS = {"type": "array", "minItems": 1, "items": {"type": "string"}}
READING = {"enum": ["mean_curve", "per_seed"]}
CRITERION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "rule": {"enum": ["first", "stays"]},
        "reference": {"enum": ["recursive_optimal", "optimal"]},
        "tolerance": {"type": "number", "minimum": 0},
        "window": {"type": "integer", "minimum": 1},
        "hold": {"type": "integer", "minimum": 0},
        "curve_step": {"type": "integer", "minimum": 1},
    },
}
FINAL = {"agent": ALGO, "variants": VARIANTS,
         "column": {"enum": ["final_policy_return", "final_hierarchical_return", "final_hg_return"]}}


def _curve_words(crit: dict, statistic_words: str = "the claim's statistic (mean: the paper's average)") -> str:
    ref = {"recursive_optimal": "the recursively optimal mean return", "optimal": "the optimal mean return"}
    when = ("stays at or above it to the end of the run" if crit.get("rule", "first") == "stays" else
            f"reaches it and stays there for {int(crit.get('hold', 0))} primitive steps (or to the end of the run)")
    return (f"each seed's trailing {crit['window']}-trial mean return read every {int(crit.get('curve_step', 500))} "
            f"primitive steps, aggregated over seeds by {statistic_words}; the primitive steps at which that "
            f"curve first {when}, the level being {ref[crit['reference']]} - {crit['tolerance']} (oracle)")


def _curve_part(table: pd.DataFrame, params: dict, crit: dict, algo: str, variant: str):
    """(seeds, curves, Criterion) of one agent on one variant."""
    xs = grid(int(params["n_steps"]), int(crit.get("curve_step", 500)))
    seeds, curves = seed_curves(table, algo, variant, int(crit["window"]), xs)
    ref = reference_return(table, variant, crit["reference"])
    return seeds, curves, Criterion(level=ref - float(crit["tolerance"]), xs=xs, rule=crit.get("rule", "first"),
                                    hold=int(crit.get("hold", 0)))


def _one_variant(cp: dict, params: dict) -> str:
    variants = list(cp.get("variants", params["variants"]))
    if len(variants) != 1:
        raise ValueError(f"variants: reading mean_curve reads one variant's curve, got {variants}")
    return variants[0]


def _fmt_steps(x: float) -> str:
    return "never (censored)" if not np.isfinite(x) else f"{x:,.0f}"


@MEASURES.register("speedup", {"baseline": ALGO, "agent": ALGO, "variants": VARIANTS, "reading": READING,
                                "criterion": CRITERION})
def speedup(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Ratio of primitive steps to criterion, baseline / agent: of the curves averaged over seeds
    (``reading: mean_curve``, one variant) or per seed (``per_seed``; strata = variants)."""
    variants = list(cp.get("variants", params["variants"]))
    crit = _criterion(params, cp)
    baseline, agent = cp.get("baseline", "flat_q"), cp.get("agent", "maxq_q_abs")
    if cp.get("reading", "per_seed") == "mean_curve":
        variant = _one_variant(cp, params)
        sb, cb, kb = _curve_part(table, params, crit, baseline, variant)
        sa, ca, ka = _curve_part(table, params, crit, agent, variant)
        n = min(len(sb), len(sa))
        xb, xa = crossing_steps(cb, kb) if len(sb) else np.inf, crossing_steps(ca, ka) if len(sa) else np.inf
        note = (f"{LABELS[baseline]} / {LABELS[agent]} on {variant}: ratio of the primitive steps at which their "
                f"learning curves averaged over seeds reach the level: {_curve_words(crit)}. Mean curves "
                f"(the paper's reading): {LABELS[baseline]} {_fmt_steps(xb)}, {LABELS[agent]} {_fmt_steps(xa)} "
                f"steps ({len(sb)} and {len(sa)} seeds, runs of {params['n_steps']} primitive steps). 95% CI: "
                f"seeds of each agent resampled whole (curve kept), crossing recomputed; a curve that never "
                f"reaches the level is censored (+inf).")
        return Samples(values=np.full((n, 1), np.nan), statistic="mean", note=note, n_seeds=n,
                       budget=float(params["n_steps"]),
                       extra={"bootstrap": CurveBootstrap([(cb, kb), (ca, ka)], "ratio"),
                              "spec": spec_key(measure="speedup", baseline=baseline, agent=agent, variant=variant,
                                               criterion=crit)})
    vals, info = speedup_samples(table, params, baseline, agent, variants, crit)
    note = (f"{LABELS[baseline]} / {LABELS[agent]}: per-seed ratio of primitive steps to criterion "
            f"({_criterion_words(crit)}); strata = variants {info['variants']}; runs of "
            f"{params['n_steps']} primitive steps; censored runs (counted at their length, a lower bound): "
            f"{info['censored']}. Censoring the baseline lowers the ratio, censoring the agent raises it.")
    return Samples(values=vals, statistic="iqm", note=note, budget=float(params["n_steps"]))


@MEASURES.register("steps", {"agent": ALGO, "variants": VARIANTS, "reading": READING, "criterion": CRITERION})
def steps(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Primitive steps to criterion of one agent: of its learning curve averaged over seeds (``reading:
    mean_curve``, one variant) or per seed (``per_seed``, censored runs counted at their length; strata =
    variants)."""
    crit = _criterion(params, cp)
    agent = cp.get("agent", "maxq_q_abs")
    if cp.get("reading", "per_seed") == "mean_curve":
        variant = _one_variant(cp, params)
        s, c, k = _curve_part(table, params, crit, agent, variant)
        x = crossing_steps(c, k) if len(s) else np.inf
        note = (f"{LABELS[agent]} on {variant}: primitive steps at which its learning curve averaged over seeds "
                f"reaches the level: {_curve_words(crit)}. Mean curve (the paper's reading): {_fmt_steps(x)} "
                f"steps ({len(s)} seeds, runs of {params['n_steps']} primitive steps). 95% CI: seeds resampled "
                f"whole (curve kept), crossing recomputed; a curve that never reaches the level is censored (+inf).")
        return Samples(values=np.full((len(s), 1), np.nan), statistic="mean", note=note, n_seeds=len(s),
                       budget=float(params["n_steps"]),
                       extra={"bootstrap": CurveBootstrap([(c, k)], "steps"),
                              "spec": spec_key(measure="steps", agent=agent, variant=variant, criterion=crit)})
    variants = list(cp.get("variants", params["variants"]))
    ct = criterion_table(table, params, crit, algos={agent}, variants=set(variants))
    piv = ct.pivot_table(index="seed", columns="variant", values="stc") if len(ct) else pd.DataFrame()
    cols = [v for v in variants if v in piv.columns]
    vals = piv[cols].to_numpy(dtype=float) if cols else np.empty((0, 0))
    vals = vals[~np.isnan(vals).any(axis=1)] if vals.size else vals
    note = (f"{LABELS[agent]}: per-seed {_criterion_words(crit)}; strata = variants {cols}; runs of "
            f"{params['n_steps']} primitive steps; censored runs (counted at their length, a lower bound): "
            f"{int(ct['censored'].sum()) if len(ct) else 0}.")
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
