"""The named measures of the Directed-MAML task-family harness's claims, shared by ``cartpole_meta``,
``cartpole_flip_meta`` and ``lunarlander_meta`` (each experiment's ``measures.py`` names them)."""

from __future__ import annotations

import pandas as pd

from ..claims import Measures, Samples
from .meta_task_family_analysis import _reduction, transfer_gap

MEASURES = Measures()

ALGO = {"type": "string"}
CRITERION = {"type": "object", "additionalProperties": False,
             "properties": {"threshold": {"type": "number"}, "window": {"type": "integer", "minimum": 1}}}


@MEASURES.register("reduction", {"quantity": {"enum": ["iters", "wall_s", "env_steps"]}, "baseline": ALGO,
                                 "agent": ALGO, "criterion": CRITERION,
                                 "source": {"enum": ["interleaved", "training"]}},
                   required=["quantity"])
def reduction(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: 1 - (``quantity`` the agent needs to reach the return threshold) / (the same of the
    baseline); ``quantity``: meta-iterations, wall seconds or environment steps."""
    base, agent = cp.get("baseline", "maml"), cp.get("agent", "directed_maml")
    vals, _, note = _reduction(table, cp, cp["quantity"], base, agent)
    return Samples(vals, statistic="iqm", note=note)


@MEASURES.register("meta_vs_transfer", {"adapt_step": {"type": "integer", "minimum": 0},
                                        "iteration": {"type": ["integer", "string"]},
                                        "match": {"enum": ["env_steps", "trajectories", "iterations"]},
                                        "agent": ALGO, "baseline": ALGO})
def meta_vs_transfer(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: held-out return after ``adapt_step`` adaptation steps, meta-learner after ``iteration``
    meta-iterations minus the transfer baseline at the evaluation matched by ``match`` (see
    :func:`.meta_task_family_analysis.transfer_gap`; default: equal meta-training environment steps)."""
    vals, note = transfer_gap(table, params, cp)
    return Samples(vals, statistic="mean", note=note)
