"""Torch-free analysis of ``nav2d_seedblog``'s tables, shared by its measures, figures and report."""

from __future__ import annotations

import pandas as pd

from ...shared.torch_runs import adapt_rows
from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
LABELS = {"maml_as_written": "listing as written", "maml_lossfix": "listing, loss broadcast fixed",
          "random_init": "random init"}


def _gain(table: pd.DataFrame, algo: str, k: int) -> pd.Series:
    a = adapt_rows(table)
    a = a[a["algo"] == algo].pivot_table(index="seed", columns="step", values="return")
    if a.empty or k not in a.columns:
        return pd.Series(dtype=float)
    return (a[k] - a[0]).dropna()


def audit_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm: median over audited iterations and seeds of every audit column."""
    cols = [c for c in table.columns if c.startswith(("cos_", "norm_", "relerr_"))]
    if not cols or "audited" not in table.columns:
        return pd.DataFrame()
    a = table[(table["phase"] == "meta_train") & table["audited"].astype(bool)]
    return a.groupby("algo")[cols].median()
