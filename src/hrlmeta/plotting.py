"""Shared figure helpers: one style, IQM curves with bootstrap CI bands, atomic saving."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from .stats import iqm, mean


def setup():
    """Headless backend and the project's seaborn theme; returns ``matplotlib.pyplot``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.1)
    return plt


def stripplot(**kw) -> None:
    """``seaborn.stripplot`` with a fixed jitter: seaborn draws the points' jitter from NumPy's global random
    state, which nothing seeds (a figure would differ from one drawing to the next); drawn here from a fixed
    seed, the global state restored afterwards."""
    import seaborn as sns

    state = np.random.get_state()
    np.random.seed(0)
    try:
        sns.stripplot(**kw)
    finally:
        np.random.set_state(state)


def savefig(fig, path: str | Path, dpi: int = 150) -> None:
    """Save ``fig`` as PNG atomically (deterministic metadata) and close it."""
    import matplotlib.pyplot as plt

    from .tidy import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def band(
    matrix: np.ndarray,
    statistic: str = "iqm",
    reps: int = 500,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point estimate and bootstrap CI at every x of a (seeds, x) matrix.

    Seeds are resampled jointly across x (one resample = one set of seeds), so the band is the CI
    of the whole curve's statistic across seeds. Returns (estimate, low, high), each shaped (x,).
    """
    stat = {"iqm": iqm, "mean": mean}[statistic]
    m = np.asarray(matrix, dtype=float)
    n, _ = m.shape
    # statistic over seeds at each x: move x to the front, seeds become "runs" with one task
    est = stat(m.T[:, :, None])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(reps, n))
    boot = stat(m[idx].transpose(0, 2, 1)[..., None])  # (reps, x)
    a = (1 - confidence) / 2
    lo, hi = np.quantile(boot, [a, 1 - a], axis=0)
    return est, lo, hi


def curve_iqm_ci(
    ax,
    table: pd.DataFrame,
    x: str,
    y: str,
    hue: str = "algo",
    seed_col: str = "seed",
    statistic: str = "iqm",
    smooth: int = 1,
    reps: int = 500,
    confidence: float = 0.95,
    rng_seed: int = 0,
    labels: dict | None = None,
    order: list | None = None,
) -> None:
    """Draw one line per ``hue`` value: the ``statistic`` across seeds of ``y`` against ``x``, with a
    bootstrap CI band. ``smooth`` > 1 applies a trailing moving average per seed first."""
    groups = order or sorted(table[hue].unique())
    for i, g in enumerate(groups):
        sub = table[table[hue] == g]
        if sub.empty:
            continue
        mat = sub.pivot_table(index=seed_col, columns=x, values=y, aggfunc="mean").sort_index(axis=1)
        mat = mat.dropna(axis=1)
        if mat.shape[1] == 0:
            continue
        values = mat.to_numpy()
        if smooth > 1:
            values = (
                pd.DataFrame(values.T).rolling(smooth, min_periods=1).mean().to_numpy().T
            )
        est, lo, hi = band(values, statistic, reps, confidence, rng_seed)
        xs = mat.columns.to_numpy()
        label = (labels or {}).get(g, g)
        (line,) = ax.plot(xs, est, label=label, lw=1.6, color=f"C{i}")
        ax.fill_between(xs, lo, hi, alpha=0.2, color=line.get_color(), lw=0)
