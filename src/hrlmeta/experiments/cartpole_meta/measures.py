"""The named measures of ``cartpole_meta``'s (and ``lunarlander_meta``'s) claims (``claims.yaml`` selects one
with ``measure:``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Measures, Samples
from . import _reduction, adapt_at

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
                                        "agent": ALGO, "baseline": ALGO})
def meta_vs_transfer(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: held-out return after ``adapt_step`` adaptation steps, meta-learner minus the transfer
    baseline, both meta-trained for ``iteration`` meta-iterations."""
    stat = "iqm"
    k = int(cp.get("adapt_step", 1))
    when = cp.get("iteration", "final")
    meta_algo, transfer = cp.get("agent", "maml"), cp.get("baseline", "pretrained")
    a = adapt_at(table, when)
    piv = a[a["step"] == k].pivot_table(index="seed", columns="algo", values="return")
    if meta_algo not in piv or transfer not in piv:
        return Samples(np.empty(0), statistic=stat, note=f"no {meta_algo}/{transfer} runs")
    d = (piv[meta_algo] - piv[transfer]).dropna()
    return Samples(
        d.to_numpy(), statistic=stat,
        note=f"per seed: held-out return after {k} adaptation step(s), {meta_algo} minus {transfer}, both "
             f"meta-trained for {when} meta-iterations; {len(d)} seeds")
