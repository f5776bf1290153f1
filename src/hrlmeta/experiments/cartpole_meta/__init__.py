"""Experiment ``cartpole_meta``: Directed-MAML vs MAML (and their first-order versions) vs the transfer
baseline on a CartPole task family (pole length, pole mass and cart mass drawn per task).

Audits the chapter's Q11 ("Directed-MAML (2024) ... CartPole-v1: 40% faster convergence") and Q9 (meta-RL vs
transfer learning) with the task-family harness :mod:`hrlmeta.shared.meta_task_family` (agents, run table,
analysis, figures and report text, shared with ``lunarlander_meta``); this module is the CartPole glue.
"""

from __future__ import annotations

import pandas as pd

from ...shared.meta_task_family import (  # noqa: F401  (re-exported: the harness run on CartPole)
    ENV_NAME,
    _learner,
    convergence_table,
    figures,
    make_env,
    report_section,
    run,
    time_variants,
)
from .. import declared

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    return run(algo, seed, params, "cartpole_meta", ENV_NAME, make_env)
