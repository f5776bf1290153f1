"""The named measures of ``cartpole_flip_meta``'s claims: those of the task-family harness
(:mod:`hrlmeta.shared.meta_task_family_measures`) plus ``adaptation_gain`` (does adaptation raise the return, per task)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from ...shared.meta_task_family_measures import MEASURES as HARNESS
from .analysis import adaptation_gain as gain
from .analysis import per_task

MEASURES = Measures(HARNESS)


@MEASURES.register("adaptation_gain", {"agent": {"type": "string"}, "adapt_step": {"type": "integer", "minimum": 1},
                                       "iteration": {"type": ["integer", "string"]}})
def adaptation_gain(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: mean over the held-out tasks of (return after ``adapt_step`` adaptation steps - return before
    adaptation) of ``agent``, at the evaluation after ``iteration`` meta-iterations (``final``: the last)."""
    algo = cp.get("agent", "pretrained")
    step = int(cp.get("adapt_step", len(params["eval"]["step_sizes"])))
    when = cp.get("iteration", "final")
    g = gain(table, algo, step, when)
    pre = per_task(table, 0, when)
    before = pre[pre["algo"] == algo].groupby("seed")["return"].mean()
    note = (f"per seed: mean over the held-out tasks of the return after {step} adaptation step(s) minus the "
            f"return before adaptation, {algo} after {when} meta-iterations (mean return before adaptation "
            f"{before.mean():.1f}, horizon {_horizon(params)}); {len(g)} seeds")
    return Samples(g.to_numpy(dtype=float), statistic="mean", note=note)


def _horizon(params: dict) -> int:
    """The episode length of the task family (params env.horizon, whose schema default is CartPoleFamily's,
    CartPole-v1's 500), read without building the torch environment."""
    return int(params["env"]["horizon"])
