"""The named measures of ``nav2d_seedblog``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from .analysis import _gain, adapt_rows

MEASURES = Measures()


@MEASURES.register("adaptation_gain", {"algo": {"enum": ["maml_as_written", "maml_lossfix", "random_init"]},
                                       "adapt_step": {"type": "integer", "minimum": 0}})
def adaptation_gain(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: mean over held-out goals of the return after ``adapt_step`` SGD steps minus before."""
    algo = cp.get("algo", "maml_as_written")
    k = int(cp.get("adapt_step", 5))
    gain = _gain(table, algo, k)
    ad = adapt_rows(table)
    failed = ad[(ad["algo"] == algo) & (ad["step"] == 0)].get("eval_tasks_failed")
    nf = int(failed.sum()) if failed is not None else 0
    return Samples(
        gain.to_numpy(), statistic="mean",
        note=f"{algo}: mean over held-out goals of the return after {k} SGD steps (the listing's "
             f"evaluate_maml 'after') minus before, per seed; {nf} test task(s) over all seeds left out "
             "because the listing produced NaN parameters on them")
