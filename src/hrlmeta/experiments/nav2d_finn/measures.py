"""The named measures of ``nav2d_finn``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from .analysis import _median_iter_time, _pivot, cost_sweep

MEASURES = Measures()

STEP = {"type": "integer", "minimum": 0}


def _budget(table: pd.DataFrame):
    """Training budget in meta-iterations (paper_budget in claims.yaml) and a function giving its measured
    cost (mean over seeds of the summed wall seconds of the named algorithms' meta-training)."""
    mt = table[table["phase"] == "meta_train"]
    budget = float(mt["iteration"].max() + 1) if not mt.empty else None

    def cost(*algos):
        m = mt[mt["algo"].isin(algos)]
        return float(m.groupby("seed")["wall_s"].sum().mean()) if not m.empty else None

    return budget, cost


@MEASURES.register("perf_gap", {"adapt_step": STEP})
def perf_gap(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Relative loss (R_maml - R_fomaml) / |R_maml| of the held-out return after ``adapt_step`` steps."""
    budget, cost = _budget(table)
    step = int(cp.get("adapt_step", 1))
    m, f = _pivot(table, "maml", step), _pivot(table, "fomaml", step)
    seeds = m.index.intersection(f.index)
    gap = (m[seeds] - f[seeds]) / m[seeds].abs()
    return Samples(
        gap.to_numpy(), statistic="mean",
        note=f"relative loss (R_maml - R_fomaml) / |R_maml| of the held-out return after {step} adaptation "
             f"step(s), paired by seed (positive = FOMAML worse); {len(seeds)} seeds",
        budget=budget, extra={"cost_s": cost("maml", "fomaml")})


@MEASURES.register("cost_ratio", {"source": {"enum": ["interleaved", "training"]},
                                  "width": {"type": "integer", "minimum": 1}})
def cost_ratio(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: s per MAML meta-iteration / s per FOMAML meta-iteration (timed interleaved in one process,
    or from the training runs' wall times with ``source: training``)."""
    source = cp.get("source", "interleaved")
    if source == "interleaved":
        w = int(cp.get("width", tuple(params["policy"]["hidden"])[0]))
        c = cost_sweep(table)
        c = c[c["width"] == w].set_index("seed")["ratio"]
        return Samples(
            c.to_numpy(), statistic="mean",
            note=f"per seed: median s per MAML meta-iteration / median s per FOMAML meta-iteration at width "
                 f"{w}, both timed interleaved in the same process after a warm-up (whole iteration: "
                 "sampling, inner step, TRPO with CG on KL-HVPs, line search); "
                 f"{len(c)} seeds")
    m, f = _median_iter_time(table, "maml"), _median_iter_time(table, "fomaml")
    seeds = m.index.intersection(f.index)
    ratio = m[seeds] / f[seeds]
    return Samples(
        ratio.to_numpy(), statistic="mean",
        note="per seed: median wall time of a MAML meta-iteration / median of a FOMAML meta-iteration "
             "in the training runs (separate jobs, so sensitive to machine load); "
             f"{len(seeds)} seeds")


@MEASURES.register("adaptation_gain", {"algo": {"type": "string"}, "adapt_step": STEP})
def adaptation_gain(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: held-out return after ``adapt_step`` adaptation steps minus before."""
    budget, cost = _budget(table)
    algo = cp.get("algo", "maml")
    k = int(cp.get("adapt_step", 5))
    after, before = _pivot(table, algo, k), _pivot(table, algo, 0)
    gain = (after - before).dropna()
    return Samples(
        gain.to_numpy(), statistic="mean",
        note=f"{algo}: held-out return after {k} adaptation steps minus before (per seed)",
        budget=budget, extra={"cost_s": cost(algo)})
