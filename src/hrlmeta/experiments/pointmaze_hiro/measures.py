"""The named measures of ``pointmaze_hiro``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...claims import Measures, Samples
from . import _budget, _floor, _floor_samples, _paired, final_success, schedule, steps_to_threshold

MEASURES = Measures()

WINDOW = {"final_window": {"type": "integer", "minimum": 1}}


def _window(params: dict, cp: dict) -> int:
    return int(cp.get("final_window", params.get("analysis", {}).get("final_window", 3)))


@MEASURES.register("success_difference", {**WINDOW, "baseline": {"enum": ["td3", "hiro_no_correction", "feudal"]}},
                   required=["baseline"])
def success_difference(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: HIRO minus ``baseline`` final evaluation success rate (mean of the last evaluations)."""
    budget = _budget(table)
    window = _window(params, cp)
    other = cp["baseline"]
    h, o = _paired(final_success(table, "hiro", window), final_success(table, other, window))
    if _floor(table, "hiro", other):
        return _floor_samples(budget, "hiro", other)
    return Samples(
        (h - o).to_numpy(), statistic="mean", budget=budget,
        note=f"per seed: HIRO minus {other} evaluation success rate (goal {schedule(params)['goal_str']}, "
             f"final distance < {schedule(params)['radius']}), mean over the last {window} evaluations "
             f"at {budget:.0f} env steps; paired by seed; {len(h)} seeds")


@MEASURES.register("sample_efficiency", {**WINDOW, "threshold": {"type": "number", "minimum": 0, "maximum": 1},
                                         "censor": {"enum": ["budget", "inf"]}})
def sample_efficiency(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: env steps until the evaluation success rate first reaches ``threshold``, FeUdal / HIRO."""
    budget = _budget(table)
    sc = schedule(params)
    thr = float(cp.get("threshold", 0.5))
    mode = cp.get("censor", "budget")
    cval = (budget or 0.0) + sc["every"] if mode == "budget" else math.inf
    f, fc = steps_to_threshold(table, "feudal", thr, cval)
    h, hc = steps_to_threshold(table, "hiro", thr, cval)
    f, h = _paired(f, h)
    fc, hc = fc[f.index], hc[h.index]
    both = fc & hc
    ratio = (f / h)[~both]
    return Samples(
        ratio.to_numpy(), statistic="iqm", n_seeds=int(len(ratio)), budget=budget,
        note=f"per seed: env steps until the evaluation success rate first reaches {thr}, FeUdal-style / "
             f"HIRO; censored runs (never reached within {budget:.0f} steps) count as "
             + ("budget + one evaluation interval (a censored FeUdal run gives a lower bound on the ratio)"
                if mode == "budget" else "infinity")
             + f"; censored: FeUdal {int(fc.sum())}/{len(fc)}, HIRO {int(hc.sum())}/{len(hc)}; "
             f"{int(both.sum())} seed(s) censored for both dropped (no information)")


@MEASURES.register("stability", WINDOW)
def stability(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: |FeUdal final success - its median over seeds| minus the same for HIRO."""
    budget = _budget(table)
    window = _window(params, cp)
    f, h = _paired(final_success(table, "feudal", window), final_success(table, "hiro", window))
    if _floor(table, "hiro", "feudal"):
        return _floor_samples(budget, "hiro", "feudal")
    dev = (f - f.median()).abs() - (h - h.median()).abs()
    return Samples(
        dev.to_numpy(), statistic="mean", budget=budget,
        note=f"per seed: |FeUdal final success - its median over seeds| minus the same for HIRO (final = mean "
             f"of the last {window} evaluations); mean > 0: HIRO's across-seed spread is smaller. "
             f"Std over seeds: FeUdal {f.std(ddof=1):.3f}, HIRO {h.std(ddof=1):.3f}; {len(f)} seeds")


@MEASURES.register("published", {"published": {"type": "string"}}, required=["published"])
def published(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """A row of the paper's Table 1 that is not re-run here: no seeds (inconclusive), the source in the note."""
    return Samples(np.empty((0,)), statistic="mean", n_seeds=0, budget=_budget(table),
                   note=f"published in Nachum et al. (2018), Table 1 (row {cp['published']}); "
                        "MuJoCo Ant, 10M steps: not re-run here")
