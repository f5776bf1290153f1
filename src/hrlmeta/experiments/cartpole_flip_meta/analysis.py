"""Torch-free analysis of ``cartpole_flip_meta``'s tables: the task-family harness's (:mod:`hrlmeta.shared.meta_task_family_analysis`),
shared by its measures, figures and report."""

from __future__ import annotations

import json

import pandas as pd

from ...shared.meta_task_family_analysis import LABELS, adapt_at  # noqa: F401  (LABELS: the figures')
from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml


def per_task(table: pd.DataFrame, step: int, iteration="final") -> pd.DataFrame:
    """Long table (algo, seed, task, return) of every held-out task's return after ``step`` adaptation
    steps, at the evaluation after ``iteration`` meta-iterations (``final``: each run's last)."""
    a = adapt_at(table, iteration)
    a = a[(a["step"] == step) & (a["task_returns"].astype(str) != "")]
    rows = []
    for algo, seed, txt in zip(a["algo"], a["seed"], a["task_returns"]):
        for i, r in enumerate(json.loads(txt)):
            rows.append({"algo": algo, "seed": int(seed), "task": i, "return": float(r)})
    return pd.DataFrame(rows, columns=["algo", "seed", "task", "return"])


def adaptation_gain(table: pd.DataFrame, algo: str, step: int, iteration="final") -> pd.Series:
    """Per seed: mean over the held-out tasks of (return after ``step`` adaptation steps - return before
    adaptation), at the evaluation after ``iteration`` meta-iterations."""
    pre, post = per_task(table, 0, iteration), per_task(table, step, iteration)
    pre, post = pre[pre["algo"] == algo], post[post["algo"] == algo]
    m = pre.merge(post, on=["algo", "seed", "task"], suffixes=("_pre", "_post"))
    return (m["return_post"] - m["return_pre"]).groupby(m["seed"]).mean()
