"""What ``lunarlander_meta``'s report section (``report.md``) shows: ``context(table, params)``, the
task-family harness's values (:func:`hrlmeta.shared.meta_task_family_report.context`)."""

from __future__ import annotations

import pandas as pd

from ...shared.meta_task_family_report import context as family_context

#: the return the convergence table counts meta-iterations to
THRESHOLD = 0.0


def context(table: pd.DataFrame, params: dict) -> dict:
    return family_context(table, params, threshold=THRESHOLD)
