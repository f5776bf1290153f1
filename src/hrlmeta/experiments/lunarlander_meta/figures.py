"""The figures of ``lunarlander_meta`` (experiment.yaml's ``figures``): the task-family harness's, with
LunarLander's "solved" return on the training curve."""

from __future__ import annotations

import pandas as pd

from ...shared.meta_task_family_figures import figures as family_figures

SOLVED = 200.0  # LunarLander's conventional "solved" return


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    family_figures(table, params, outdir, experiment="lunarlander_meta", title="LunarLander-v3",
                   ref_line=(SOLVED, f"'solved' ({SOLVED:g})"))
