"""The claims engine: claims are declared in ``config/claims.yaml``, measured by the experiment that
owns them (``claim_samples``), and decided here with a seeded stratified bootstrap.

Each declared claim has::

    id: options_speedup_fourrooms        # stable id
    experiment: fourrooms_sutton         # which experiment's tidy table measures it
    source: "chapter, 'Four Rooms Experiment' and Q1"
    statement: "Q-learning with Options 3-5x faster than vanilla Q-learning"
    metric: "episodes-to-criterion, flat / options, per seed"   # in words
    expected: "3-5x"                      # the claimed value, in words
    expected_range: [3, 5]                # machine-readable interval; null = unbounded side
    statistic: iqm                        # optional (default: what claim_samples returns)
    params: {...}                         # optional, passed to the experiment's claim_samples
    robustness:                           # optional: analyst choices to vary (a specification curve)
      vary:                               #   dotted paths into this claim -> values to try
        params.criterion.window: [1, 10, 20, 50]
        statistic: [iqm, median, mean]
    paper_budget:                         # optional: the paper's training budget for this claim
      value: 1.0e8                        #   in the unit the experiment reports as Samples.budget
      unit: "env steps per cell"
      source: "Duan et al. 2016, Sec. 5"

Robustness: every combination of ``robustness.vary`` is set into a copy of the claim (``statistic``
replaces the claim's statistic, ``params.x.y`` sets ``claim["params"]["x"]["y"]``), measured by the same
``claim_samples`` on the same tables (never a new run) and decided with the same bootstrap.
Budget: ``claim_samples`` may return ``Samples(budget=...)``, our training budget in the unit of
``paper_budget``; ``budget_fraction`` = ours / the paper's.

Verdict (see :func:`hrlmeta.stats.verdict`): ``holds`` when the whole 95% CI lies in
``expected_range``, ``fails`` when the CI misses it entirely, ``inconclusive`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import stats

COLUMNS = [
    "claim_id",
    "experiment",
    "source",
    "statement",
    "metric",
    "expected",
    "estimate",
    "ci_low",
    "ci_high",
    "n_seeds",
    "verdict",
]
REQUIRED_KEYS = ("id", "experiment", "source", "statement", "metric", "expected", "expected_range")


@dataclass
class Samples:
    """What a claim is decided on.

    ``values``: per-seed scores shaped (runs, tasks) -- or (runs,) for a single stratum.
    ``statistic``: ``iqm``, ``mean`` or ``median`` (see :mod:`hrlmeta.stats`).
    ``note``: how the values were computed, anything censored or excluded (goes in the report).
    ``budget``: our training budget in the unit of the claim's ``paper_budget`` (see module doc).
    """

    values: np.ndarray
    statistic: str = "iqm"
    note: str = ""
    n_seeds: int | None = None
    extra: dict = field(default_factory=dict)
    #: our training budget for this claim, in the unit of the claim's ``paper_budget`` (None = unknown)
    budget: float | None = None


class ClaimError(ValueError):
    pass


def load_claims(path) -> list[dict]:
    from .config import load_yaml

    doc = load_yaml(path)
    claims = (doc.get("claims") or []) if isinstance(doc, dict) else doc
    if not isinstance(claims, list):
        raise ClaimError(f"{path}: expected a top-level list 'claims:'")
    seen = set()
    for i, c in enumerate(claims):
        missing = [k for k in REQUIRED_KEYS if k not in c]
        if missing:
            raise ClaimError(f"{path}: claim #{i} ({c.get('id', '?')}) lacks {missing}")
        if c["id"] in seen:
            raise ClaimError(f"{path}: duplicate claim id {c['id']!r}")
        seen.add(c["id"])
        rng = c["expected_range"]
        if not (isinstance(rng, list) and len(rng) == 2):
            raise ClaimError(f"{path}: claim {c['id']!r}: expected_range must be [low, high]")
        lo, hi = rng
        if lo is not None and hi is not None and lo > hi:
            raise ClaimError(f"{path}: claim {c['id']!r}: expected_range low {lo} > high {hi}")
    return claims


def decide(claim: dict, samples: Samples, reps: int, confidence: float, seed: int) -> dict:
    """One row of claims.tsv."""
    values = np.asarray(samples.values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    statistic = claim.get("statistic", samples.statistic)
    n_seeds = samples.n_seeds if samples.n_seeds is not None else values.shape[0]
    if values.size == 0:
        est = lo = hi = float("nan")
    else:
        est, lo, hi = stats.stratified_bootstrap_ci(
            values, statistic, reps=reps, confidence=confidence, seed=seed
        )
    low, high = claim["expected_range"]
    return {
        "claim_id": claim["id"],
        "experiment": claim["experiment"],
        "source": claim["source"],
        "statement": claim["statement"],
        "metric": claim["metric"],
        "expected": str(claim["expected"]),
        "estimate": est,
        "ci_low": lo,
        "ci_high": hi,
        "n_seeds": int(n_seeds),
        "verdict": stats.verdict(lo, hi, low, high),
    }


def evaluate(claims: list[dict], tables: dict[str, pd.DataFrame], cfg: dict) -> tuple[pd.DataFrame, dict]:
    """Decide every claim whose experiment has a table. Returns (claims frame, notes by claim id)."""
    from . import experiments as registry

    boot = {"reps": 2000, "confidence": 0.95, "seed": 20261121, **cfg.get("bootstrap", {})}
    rows, notes = [], {}
    for claim in claims:
        exp = claim["experiment"]
        if exp not in tables:
            continue
        mod = registry.get(exp)
        if not hasattr(mod, "claim_samples"):
            raise ClaimError(f"experiment {exp!r} cannot measure claim {claim['id']!r} (no claim_samples)")
        params = cfg["experiments"][exp].get("params", {})
        samples = mod.claim_samples(claim, tables[exp], params)
        rows.append(decide(claim, samples, boot["reps"], boot["confidence"], boot["seed"]))
        if samples.note:
            notes[claim["id"]] = samples.note
    return pd.DataFrame(rows, columns=COLUMNS), notes


def write_tsv(df: pd.DataFrame, path) -> None:
    from .tidy import atomic_write_text

    atomic_write_text(path, df.to_csv(sep="\t", index=False, float_format="%.6g"))
