"""The paper's reading of the Taxi learning curves: the curve of each agent averaged over training trials
(seeds), and the number of primitive steps at which that averaged curve reaches a level.

Dietterich (2000), Sec. 7.1, reads the averaged curves of Figs. 7 and 8 ("averaged results of 100 training
trials"): MAXQ-Q with abstraction "attains the hierarchically optimal policy after approximately 40,000
steps, whereas flat Q learning requires roughly twice as long to reach the same level". The quantity is a
function of the *mean* curve, not a per-seed value, so its confidence interval comes from resampling whole
seeds (each seed's curve kept intact) and recomputing the crossing of the resampled mean curve.

Definitions (all parameters in ``criterion``):

* per-seed curve at primitive step ``x``: the mean return of the last ``window`` trials finished by ``x``
  (of all of them while fewer than ``window`` are finished; undefined before the first), read on the grid
  ``x = step, 2 step, ..., n_steps`` (``curve_step``);
* aggregate curve: the ``statistic`` (``mean`` as the paper; ``median``, ``iqm``) over seeds at every grid
  point; a seed without a finished trial at ``x`` counts as -inf there;
* crossing: the first grid point at which the aggregate curve is >= reference - ``tolerance`` and from which
  it stays there for ``hold`` primitive steps (or to the end of the run, whichever comes first) for
  ``rule: first``, or to the end of the run for ``rule: stays``; +inf where it never does (censored);
* ratio of two agents' crossings: +inf / finite = +inf, finite / +inf = 0, +inf / +inf undefined (NaN).

The bootstrap resamples each agent's seeds independently (the agents' runs are independent), ``reps``
times from ``numpy.random.default_rng(seed)``, and takes the percentile interval
(:func:`hrlmeta.stats.percentile_ci`, whose ratio rule counts an undefined replicate as 0 for the lower end
and +inf for the upper end).

A measure that returns such a quantity puts the bootstrap in ``Samples.extra["bootstrap"]`` (a callable
``(statistic, reps, confidence, seed) -> (estimate, ci_low, ci_high)``); :func:`decide` decides a claim
with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from ... import stats

#: aggregates over seeds a curve claim may use (the claim's ``statistic``)
AGGREGATES = ("mean", "median", "iqm")
#: score of a seed with no finished trial at a grid point (below any return)
_MISSING = -np.inf


def grid(n_steps: int, step: int) -> np.ndarray:
    """Primitive-step counts at which the curves are read: step, 2 step, ..., up to n_steps."""
    if step < 1:
        raise ValueError(f"criterion.curve_step: must be a positive number of primitive steps, got {step!r}")
    return np.arange(step, int(n_steps) + 1, step, dtype=np.int64)


def seed_curve(cum_steps, returns, window: int, xs) -> np.ndarray:
    """One seed's trailing ``window``-trial mean return at each primitive-step count ``xs`` (trials finished
    by then; fewer than ``window`` at the start; -inf before the first finished trial)."""
    cum = np.asarray(cum_steps)
    c = np.cumsum(np.r_[0.0, np.asarray(returns, dtype=float)])
    n = np.searchsorted(cum, xs, side="right")
    lo = np.maximum(n - int(window), 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        val = (c[n] - c[lo]) / np.maximum(n - lo, 1)
    return np.where(n > 0, val, _MISSING)


def aggregate(curves: np.ndarray, statistic: str) -> np.ndarray:
    """The ``statistic`` over seeds (axis -2) of curves shaped (..., seeds, points) -> (..., points)."""
    x = np.asarray(curves, dtype=float)
    if statistic == "mean":
        with np.errstate(invalid="ignore"):
            return x.mean(axis=-2)
    if statistic == "median":
        return np.median(x, axis=-2)
    if statistic == "iqm":
        s = np.sort(x, axis=-2)
        n = s.shape[-2]
        k = int(np.floor(0.25 * n))
        with np.errstate(invalid="ignore"):
            return s[..., k : n - k, :].mean(axis=-2)
    raise ValueError(f"statistic {statistic!r}: a curve claim aggregates seeds with one of {', '.join(AGGREGATES)}")


def crossing_index(agg: np.ndarray, level: float, hold_points: int | None) -> np.ndarray:
    """Index of the first grid point at which ``agg`` (..., points) is >= ``level`` and stays so for
    ``hold_points`` further points (or to the end; ``None``: to the end of the run); -1 where none."""
    a = np.asarray(agg, dtype=float)
    ok = a >= level  # NaN and -inf: not reached
    k = ok.shape[-1]
    if hold_points is None or hold_points >= k:
        # the first index from which every later point is ok
        bad = ~ok
        last_bad = np.where(bad.any(axis=-1), k - 1 - np.argmax(bad[..., ::-1], axis=-1), -1)
        idx = last_bad + 1
        return np.where(idx < k, idx, -1)
    # windowed: ok[i .. min(i + hold, k - 1)] all true
    bad = np.concatenate([np.zeros(ok.shape[:-1] + (1,)), np.cumsum(~ok, axis=-1)], axis=-1)
    i = np.arange(k)
    j = np.minimum(i + int(hold_points), k - 1)
    good = (bad[..., j + 1] - bad[..., i]) == 0
    return np.where(good.any(axis=-1), np.argmax(good, axis=-1), -1)


@dataclass(frozen=True)
class Criterion:
    """When an aggregate curve has reached its level (see the module doc)."""

    level: float          # reference - tolerance
    xs: np.ndarray        # the grid of primitive-step counts
    rule: str = "first"   # first | stays
    hold: int = 0         # primitive steps the level must be held after the crossing (rule first)

    def hold_points(self) -> int | None:
        if self.rule == "stays":
            return None
        if self.rule != "first":
            raise ValueError(f"criterion.rule: unknown rule {self.rule!r}; choose first or stays")
        step = int(self.xs[1] - self.xs[0]) if len(self.xs) > 1 else 1
        return int(math.ceil(int(self.hold) / step))

    def steps(self, agg: np.ndarray) -> np.ndarray:
        """Primitive steps at which ``agg`` (..., points) reaches the level; +inf where it never does."""
        idx = crossing_index(agg, self.level, self.hold_points())
        return np.where(idx >= 0, self.xs[np.maximum(idx, 0)].astype(float), np.inf)


def _resampled_aggregates(curves: np.ndarray, idx: np.ndarray, statistic: str) -> np.ndarray:
    """Aggregate curves (reps, points) of the seed resamples ``idx`` (reps, seeds)."""
    n = curves.shape[0]
    if statistic == "mean":
        # mean of a resample = counts @ curves / n; -inf entries cannot go through the product (0 * inf)
        finite = np.where(np.isfinite(curves), curves, 0.0)
        missing = (~np.isfinite(curves)).astype(float)
        reps = idx.shape[0]
        counts = np.bincount((idx + n * np.arange(reps)[:, None]).ravel(), minlength=reps * n)
        counts = counts.reshape(reps, n).astype(float)
        out = counts @ finite / n
        out[(counts @ missing) > 0] = _MISSING
        return out
    out = np.empty((idx.shape[0], curves.shape[1]))
    for a in range(0, idx.shape[0], 100):
        out[a : a + 100] = aggregate(curves[idx[a : a + 100]], statistic)
    return out


def _full(curves: np.ndarray, statistic: str) -> np.ndarray:
    return _resampled_aggregates(curves, np.arange(curves.shape[0])[None, :], statistic)[0]


def crossing_steps(curves: np.ndarray, crit: Criterion, statistic: str = "mean") -> float:
    """Primitive steps at which the ``statistic`` over seeds of ``curves`` (seeds, points) reaches the
    criterion (+inf: never within the run)."""
    return float(crit.steps(_full(curves, statistic)))


def _ratio(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = a / b
    return np.where(np.isinf(a) & np.isinf(b), np.nan, r)


@dataclass
class CurveBootstrap:
    """The seed-level bootstrap of a curve claim: ``parts`` are (curves (seeds, points), criterion) of one
    agent (``kind="steps"``: the crossing step) or of two (``kind="ratio"``: crossing of the first over
    crossing of the second). Called as ``(statistic, reps, confidence, seed) -> (estimate, lo, hi)``."""

    parts: list
    kind: str = "ratio"

    def estimate(self, statistic: str) -> float:
        s = [crossing_steps(c, k, statistic) for c, k in self.parts]
        return float(_ratio(s[0], s[1])) if self.kind == "ratio" else float(s[0])

    def replicates(self, statistic: str, reps: int, seed: int) -> np.ndarray:
        if statistic not in AGGREGATES:
            raise ValueError(f"statistic {statistic!r}: a curve claim aggregates seeds with one of "
                             f"{', '.join(AGGREGATES)}")
        rng = np.random.default_rng(seed)
        s = []
        for curves, crit in self.parts:
            idx = rng.integers(0, curves.shape[0], size=(int(reps), curves.shape[0]))
            s.append(crit.steps(_resampled_aggregates(curves, idx, statistic)))
        return _ratio(s[0], s[1]) if self.kind == "ratio" else s[0]

    def __call__(self, statistic: str, reps: int = 2000, confidence: float = 0.95, seed: int = 0):
        if any(c.shape[0] == 0 for c, _ in self.parts):
            return (float("nan"),) * 3
        boot = self.replicates(statistic, reps, seed)
        lo, hi = stats.percentile_ci(boot, confidence, "median_ratio" if self.kind == "ratio" else None)
        return self.estimate(statistic), lo, hi


def decide(claim: dict, samples, reps: int, confidence: float, seed: int) -> dict:
    """:func:`hrlmeta.claims.decide`, with the estimate, CI and verdict taken from the samples' own
    bootstrap (``samples.extra["bootstrap"]``) where they carry one (a claim on an aggregate curve)."""
    from ... import claims as K

    row = K.decide(claim, samples, reps=reps, confidence=confidence, seed=seed)
    fn = (samples.extra or {}).get("bootstrap")
    if fn is not None:
        est, lo, hi = fn(claim.get("statistic", samples.statistic), reps=reps, confidence=confidence, seed=seed)
        low, high = claim["expected_range"]
        row.update(estimate=est, ci_low=lo, ci_high=hi, verdict=stats.verdict(lo, hi, low, high))
    return row


def spec_key(**kw) -> str:
    """What a curve quantity depends on, as text (``Samples.extra["spec"]``: tells specifications apart
    whose placeholder values are equal)."""
    return json.dumps(kw, sort_keys=True, default=str)
