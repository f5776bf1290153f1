"""Torch-free analysis of ``cartpole_meta``'s tables: the task-family harness's (:mod:`hrlmeta.shared.meta_task_family_analysis`),
shared by its measures, figures and report."""

from __future__ import annotations

from ...shared.meta_task_family_analysis import (  # noqa: F401  (the harness's analysis, used by this folder)
    LABELS,
    TRAINED,
    adapt_at,
    convergence_table,
    cost_rows,
    samples_before,
    trajectories_per_iteration,
    transfer_gap,
)
from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
