"""The figures of ``cartpole_meta`` (experiment.yaml's ``figures``): the task-family harness's."""

from __future__ import annotations

import pandas as pd

from ...shared.meta_task_family_figures import figures as family_figures


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    family_figures(table, params, outdir, experiment="cartpole_meta", title="CartPole")
