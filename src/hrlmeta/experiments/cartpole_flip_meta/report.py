"""What ``cartpole_flip_meta``'s report section (``report.md``) shows: ``context(table, params)``, the
task-family harness's values (:func:`hrlmeta.shared.meta_task_family_report.context`) plus the adaptation
gain per held-out task."""

from __future__ import annotations

import pandas as pd

from ...shared.meta_task_family_report import context as family_context
from ...tidy import present
from .analysis import ALGOS, adaptation_gain

#: the return the convergence table counts meta-iterations to
THRESHOLD = 175.0


def context(table: pd.DataFrame, params: dict) -> dict:
    K = len(params["eval"]["step_sizes"])
    gains = []
    for a in present(table, ALGOS):
        g = adaptation_gain(table, a, K)
        if len(g):
            gains.append({"algo": a, "gain": g.mean(), "seeds": len(g)})
    return {**family_context(table, params, threshold=THRESHOLD), "flip_prob": float(params["env"]["flip_prob"]),
            "K": K, "gains": gains}
