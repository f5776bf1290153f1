"""The named measures of ``pointmass_diayn``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from ...tidy import present
from . import EVAL_MODE, LABELS, _per_seed_layout, final_coverage, final_rows, layouts

MEASURES = Measures()

COMMON = {"algo": {"type": "string"},
          "layouts": {"type": "array", "minItems": 1, "items": {"enum": ["open", "passage"]}},
          "eval_mode": {"enum": ["stochastic", "deterministic"]}}


def _common(table: pd.DataFrame, params: dict, cp: dict):
    lays = present(table, cp.get("layouts", layouts(params)), "layout")
    mode = cp.get("eval_mode", EVAL_MODE)
    total = int(params.get("agent", {}).get("total_steps", 50000))
    return lays, mode, total


def discriminability(table: pd.DataFrame, algo: str, measure: str, mode: str, lays: list[str]) -> pd.DataFrame:
    """Per (seed, layout): ``algo``'s final-evaluation accuracy (``measure``: ``learned`` = the discriminator
    on the states s_1..s_T, ``final_state``, ``fresh`` = a classifier trained from scratch) in ``mode``
    rollouts, minus chance 1/K."""
    col = {"learned": "acc", "final_state": "success", "fresh": "fresh_acc"}[measure]
    f = final_rows(table)
    f = f[(f["algo"] == algo) & (f["eval_mode"] == mode)]
    f = f.assign(above=f[col].astype(float) - 1.0 / f["num_skills"].astype(float))
    return f.groupby(["seed", "layout"])["above"].mean().unstack("layout").reindex(columns=lays).dropna()


@MEASURES.register("discriminable", {**COMMON, "measure": {"enum": ["learned", "final_state", "fresh"]},
                                     "baseline": {"type": "string"}})
def discriminable(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed and layout: skill-classification accuracy on fresh evaluation rollouts minus that of
    ``baseline`` (an algorithm, paired by seed: the reward-0 control) or, with ``baseline: chance`` (the
    default), minus chance 1/K."""
    lays, mode, total = _common(table, params, cp)
    algo = cp.get("algo", "diayn")
    measure = cp.get("measure", "learned")
    baseline = cp.get("baseline") or "chance"
    v = discriminability(table, algo, measure, mode, lays)
    if baseline != "chance":
        b = discriminability(table, baseline, measure, mode, lays)
        seeds = v.index.intersection(b.index)
        v = (v.loc[seeds] - b.loc[seeds]).dropna()
    what = {"learned": "the learned discriminator's accuracy on the states s_1..s_T",
            "final_state": "the learned discriminator's accuracy on the final state",
            "fresh": "a classifier trained from scratch on half of the episodes, tested on the other half"}
    against = ("minus chance 1/K" if baseline == "chance" else
               f"minus the same for {LABELS.get(baseline, baseline)} (paired by seed)")
    return Samples(
        v.to_numpy(), statistic="iqm", budget=float(total),
        note=f"{algo}, {mode} evaluation rollouts (fresh episodes, never trained on) at the end of training: "
             f"{what[measure]}, {against}; strata: layouts {lays}; {len(v)} seeds")


@MEASURES.register("coverage", {**COMMON, "baseline": {"type": "string"},
                                "grid": {"type": "integer", "minimum": 1},
                                "episodes_per_skill": {"type": ["integer", "null"], "minimum": 1}})
def coverage(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed and layout: state-space coverage of DIAYN's skills minus the random skills'."""
    lays, mode, total = _common(table, params, cp)
    grid = int(cp.get("grid", params.get("eval", {}).get("coverage_grid", 10)))
    eps = cp.get("episodes_per_skill")
    cov = final_coverage(table, grid, mode, eps, float(params.get("env", {}).get("bound", 1.0)))
    d = _per_seed_layout(cov, cp.get("algo", "diayn"), lays)
    b = _per_seed_layout(cov, cp.get("baseline", "random_skills"), lays)
    seeds = d.index.intersection(b.index)
    diff = (d.loc[seeds] - b.loc[seeds]).dropna()
    return Samples(
        diff.to_numpy(), statistic="iqm", budget=float(total),
        note=f"coverage (fraction of {grid}x{grid} cells visited by all skills' {mode} evaluation rollouts, "
             f"{'all' if eps is None else eps} episode(s) per skill) of DIAYN minus random skills, paired by "
             f"seed; strata: layouts {lays}; {len(diff)} seeds")
