"""Torch-free analysis of ``nav2d_finn``'s tables, shared by its measures, figures and report."""

from __future__ import annotations

import pandas as pd

from ...shared.torch_runs import adapt_rows  # noqa: F401  (the adaptation rows, with their step count)
from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
LABELS = {"maml": "MAML", "fomaml": "FOMAML", "pretrained": "pretrained", "random_init": "random init"}


def _pivot(table: pd.DataFrame, algo: str, step: int) -> pd.Series:
    a = adapt_rows(table)
    return a[(a["algo"] == algo) & (a["step"] == step)].set_index("seed")["return"]


def _median_iter_time(table: pd.DataFrame, algo: str) -> pd.Series:
    m = table[(table["algo"] == algo) & (table["phase"] == "meta_train")]
    return m.groupby("seed")["wall_s"].median()


def cost_sweep(table: pd.DataFrame) -> pd.DataFrame:
    """Per (seed, width): s_maml, s_fomaml and their ratio from the ``cost_w*`` rows."""
    c = table[table["phase"].str.startswith("cost_w")].copy()
    if c.empty:
        return pd.DataFrame(columns=["seed", "width", "s_maml", "s_fomaml", "ratio"])
    c["variant"] = c["phase"].str.rsplit("_", n=1).str[1]
    c["width"] = c["phase"].str.extract(r"cost_w(\d+)_")[0].astype(int)
    w = c.pivot_table(index=["seed", "width"], columns="variant", values="wall_s").reset_index()
    w = w.rename(columns={"maml": "s_maml", "fomaml": "s_fomaml"})
    w["ratio"] = w["s_maml"] / w["s_fomaml"]
    return w
