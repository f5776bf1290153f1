"""Aggregate statistics with seeded, stratified bootstrap confidence intervals.

Scores are shaped ``(runs, tasks)`` as in rliable (Agarwal et al., 2021): ``runs`` are independent
seeds, ``tasks`` are strata (goals, bandit cells, ...). The stratified bootstrap resamples runs
with replacement *within each task* independently, so every resample keeps the task mix.
"""

from __future__ import annotations

from contextlib import contextmanager

from typing import Callable

import numpy as np

Statistic = Callable[[np.ndarray], np.ndarray]


def _flat(samples: np.ndarray) -> np.ndarray:
    """(..., runs, tasks) -> (..., runs*tasks)"""
    return samples.reshape(*samples.shape[:-2], -1)


def iqm(samples: np.ndarray) -> np.ndarray:
    """Interquartile mean over the last two axes (runs x tasks), as rliable defines it:
    the mean of the middle 50% of all scores (25% trimmed from each end)."""
    x = np.sort(_flat(np.asarray(samples, dtype=float)), axis=-1)
    n = x.shape[-1]
    lo = int(np.floor(0.25 * n))
    hi = n - lo
    return x[..., lo:hi].mean(axis=-1)


def mean(samples: np.ndarray) -> np.ndarray:
    return _flat(np.asarray(samples, dtype=float)).mean(axis=-1)


def median(samples: np.ndarray) -> np.ndarray:
    return np.median(_flat(np.asarray(samples, dtype=float)), axis=-1)


def _two_columns(samples: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(samples, dtype=float)
    if x.ndim < 2 or x.shape[-1] != 2:
        raise ValueError(f"statistic {name!r} needs scores shaped (runs, 2) (a numerator and a denominator "
                         f"column, e.g. two agents), got {x.shape}")
    return x


def median_ratio(samples: np.ndarray) -> np.ndarray:
    """Ratio of the two columns' medians over runs: median(col 0) / median(col 1), for scores shaped
    (runs, 2). The stratified bootstrap resamples each column's runs independently, so the two columns may
    be two agents' independent seeds (not pairs). +inf marks a censored run (never reached within the
    budget): the median is an order statistic, exact while fewer than half of a column's runs are censored;
    inf / finite = inf, finite / inf = 0, and a ratio of two censored medians is undefined (NaN)."""
    x = _two_columns(samples, "median_ratio")
    m = np.median(x, axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return m[..., 0] / m[..., 1]


def iqm_ratio(samples: np.ndarray) -> np.ndarray:
    """As :func:`median_ratio` with each column's interquartile mean (infinite as soon as a censored run
    falls in a column's middle half)."""
    x = np.sort(_two_columns(samples, "iqm_ratio"), axis=-2)
    n = x.shape[-2]
    lo = int(np.floor(0.25 * n))
    with np.errstate(invalid="ignore"):
        m = x[..., lo : n - lo, :].mean(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return m[..., 0] / m[..., 1]


STATISTICS: dict[str, Statistic] = {"iqm": iqm, "mean": mean, "median": median, "median_ratio": median_ratio,
                                    "iqm_ratio": iqm_ratio}


#: statistics whose value is a ratio of two non-negative column summaries (undefined = NaN when both are
#: censored): an undefined bootstrap replicate could be any ratio, so the CI counts it as 0 for its lower
#: end and +inf for its upper end (conservative)
RATIOS = frozenset({"median_ratio", "iqm_ratio"})


def _quantile(x: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile (numpy's default) that keeps +-inf: between two equal infinite order
    statistics the quantile is that infinity (numpy gives NaN there: inf - inf)."""
    s = np.sort(x)
    pos = q * (len(s) - 1)
    i = int(np.floor(pos))
    a, b = s[i], s[min(i + 1, len(s) - 1)]
    t = pos - i
    if t == 0 or a == b:
        return float(a)
    return float(a + (b - a) * t)


def percentile_ci(boot: np.ndarray, confidence: float, statistic: str | None = None) -> tuple[float, float]:
    """Percentile CI of bootstrap replicates. Finite replicates: exactly ``np.quantile(..., "linear")``.
    Infinite replicates (censored runs counted as +inf) keep their infinity; NaN replicates make the CI
    undefined (NaN), except for :data:`RATIOS`, where they count as 0 (lower end) and +inf (upper end)."""
    alpha = (1 - confidence) / 2
    boot = np.asarray(boot, dtype=float)
    if np.isfinite(boot).all():
        lo, hi = np.quantile(boot, [alpha, 1 - alpha], method="linear")
        return float(lo), float(hi)
    nan = np.isnan(boot)
    if nan.any() and statistic not in RATIOS:
        return float("nan"), float("nan")
    return _quantile(np.where(nan, 0.0, boot), alpha), _quantile(np.where(nan, np.inf, boot), 1 - alpha)


def get_statistic(name: str) -> Statistic:
    try:
        return STATISTICS[name]
    except KeyError:
        raise KeyError(f"unknown statistic {name!r}; choose one of {sorted(STATISTICS)}") from None


def stratified_bootstrap_ci(
    scores: np.ndarray,
    statistic: Statistic | str = "iqm",
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    chunk: int = 500,
) -> tuple[float, float, float]:
    """Point estimate and percentile CI of ``statistic`` over ``scores`` (runs x tasks).

    Returns ``(estimate, ci_low, ci_high)``. Deterministic for a given ``seed``.
    Non-finite scores are allowed (e.g. +inf for a censored ratio); the IQM and median stay
    finite as long as fewer than a quarter (half) of the scores are infinite.
    """
    stat = get_statistic(statistic) if isinstance(statistic, str) else statistic
    x = np.asarray(scores, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"scores must be shaped (runs, tasks), got {x.shape}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    runs, tasks = x.shape
    rng = np.random.default_rng(seed)
    est = float(stat(x[None])[0])
    boot = np.empty(reps)
    cols = np.arange(tasks)
    for start in range(0, reps, chunk):
        b = min(chunk, reps - start)
        idx = rng.integers(0, runs, size=(b, runs, tasks))
        boot[start : start + b] = stat(x[idx, cols])
    lo, hi = percentile_ci(boot, confidence, statistic if isinstance(statistic, str) else None)
    return est, lo, hi


#: the bootstrap behind every interval the report prints (its text, outside the claims table): the claims'
#: own settings (the config's ``bootstrap`` block, whose schema defaults these are), set by the report step
#: with :func:`bootstrap_settings` so that a claim's interval and the report's interval of the same numbers agree
REPORT_BOOTSTRAP = {"reps": 2000, "confidence": 0.95, "seed": 20261121}


@contextmanager
def bootstrap_settings(block: dict | None):
    """Within the block, :func:`report_ci` uses the config's ``bootstrap`` settings (reps, confidence, seed)."""
    prev = dict(REPORT_BOOTSTRAP)
    REPORT_BOOTSTRAP.update({k: v for k, v in (block or {}).items() if k in REPORT_BOOTSTRAP})
    try:
        yield
    finally:
        REPORT_BOOTSTRAP.clear()
        REPORT_BOOTSTRAP.update(prev)


def report_ci(scores, statistic: Statistic | str = "iqm") -> tuple[float, float, float]:
    """:func:`stratified_bootstrap_ci` with the claims' bootstrap settings (:data:`REPORT_BOOTSTRAP`): the
    intervals of the experiments' report text."""
    return stratified_bootstrap_ci(np.asarray(scores, dtype=float), statistic, **REPORT_BOOTSTRAP)


def bootstrap_many(
    scores: list[np.ndarray],
    statistics: list[str],
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    chunk: int = 500,
) -> list[tuple[float, float, float]]:
    """:func:`stratified_bootstrap_ci` of many specifications at once: ``scores[i]`` with ``statistics[i]``.

    Specifications whose scores have the same shape share one index draw (the draws of
    :func:`stratified_bootstrap_ci` with the same ``seed``), so each result is exactly what
    ``stratified_bootstrap_ci(scores[i], statistics[i], reps, confidence, seed)`` returns, and a
    specification that differs from another only in its statistic is resampled once.
    Empty scores give ``(nan, nan, nan)``.
    """
    if len(scores) != len(statistics):
        raise ValueError("scores and statistics must have the same length")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    xs = []
    for s in scores:
        x = np.asarray(s, dtype=float)
        xs.append(x[:, None] if x.ndim == 1 else x)
    out: list = [(float("nan"),) * 3] * len(xs)
    # unique score arrays (by content) -> the statistics asked of them
    groups: dict[tuple, dict[int, list[int]]] = {}
    uniq: list[np.ndarray] = []
    key_of: dict[bytes, int] = {}
    for i, x in enumerate(xs):
        if x.ndim != 2:
            raise ValueError(f"scores must be shaped (runs, tasks), got {x.shape}")
        if x.size == 0:
            continue
        k = key_of.setdefault(x.shape.__repr__().encode() + x.tobytes(), len(uniq))
        if k == len(uniq):
            uniq.append(x)
        groups.setdefault(x.shape, {}).setdefault(k, []).append(i)
    for (runs, tasks), members in groups.items():
        rng = np.random.default_rng(seed)
        cols = np.arange(tasks)
        stats_of = {k: sorted({statistics[i] for i in idx}) for k, idx in members.items()}
        boot = {(k, st): np.empty(reps) for k, sts in stats_of.items() for st in sts}
        for start in range(0, reps, chunk):
            b = min(chunk, reps - start)
            idx = rng.integers(0, runs, size=(b, runs, tasks))
            for k, sts in stats_of.items():
                resampled = uniq[k][idx, cols]
                for st in sts:
                    boot[(k, st)][start : start + b] = get_statistic(st)(resampled)
        for k, idx_list in members.items():
            for st in stats_of[k]:
                est = float(get_statistic(st)(uniq[k][None])[0])
                lo, hi = percentile_ci(boot[(k, st)], confidence, st)
                for i in idx_list:
                    if statistics[i] == st:
                        out[i] = (est, float(lo), float(hi))
    return out


def verdict(ci_low: float, ci_high: float, low: float | None, high: float | None) -> str:
    """Decide a claim whose expected value is the interval [low, high] (None = unbounded).

    - ``holds``: the whole confidence interval lies inside the expected interval;
    - ``fails``: the confidence interval and the expected interval do not overlap;
    - ``inconclusive``: they overlap only partly (or the CI is undefined).
    """
    if np.isnan(ci_low) or np.isnan(ci_high):
        return "inconclusive"
    lo = -np.inf if low is None else low
    hi = np.inf if high is None else high
    if ci_low >= lo and ci_high <= hi:
        return "holds"
    if ci_high < lo or ci_low > hi:
        return "fails"
    return "inconclusive"


def side(ci_low: float, ci_high: float, low: float | None, high: float | None) -> str:
    """Where a failing CI lies: ``below`` or ``above`` the expected interval; ``""`` when the verdict
    is not ``fails``."""
    if verdict(ci_low, ci_high, low, high) != "fails":
        return ""
    return "below" if low is not None and ci_high < low else "above"
