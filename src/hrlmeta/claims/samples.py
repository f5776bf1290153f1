"""What a claim is decided on and how an experiment names its measures: the columns and constants of the
claims engine's tables (claims.tsv, robustness.tsv), :class:`Samples`, :class:`ClaimError`, :class:`Measure`
and :class:`Measures` (see :mod:`hrlmeta.claims`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

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
    "robust",
    "scale",
    "budget_fraction",
    "kind",
    "learner_check",
]
KINDS = ("experimental", "analytic")
#: robustness.tsv: claim_id, one column per varied choice (dotted path), then these
ROBUSTNESS_TAIL = ["estimate", "ci_low", "ci_high", "verdict", "side", "primary"]
REQUIRED_KEYS = ("id", "experiment", "source", "statement", "metric", "expected", "expected_range", "measure")
SCALES = ("smoke", "default", "paper")
#: keys of an experiment's config block that do not change its results (ignored by :func:`scale_of`)
EXECUTION_KEYS = frozenset({"enabled", "algos", "threads", "seeds_per_job"})
EXECUTION_PARAM_KEYS = frozenset({"device", "torch_threads"})
UNDER_BUDGET = "fails (under budget)"


@dataclass
class Samples:
    """What a claim is decided on.

    ``values``: per-seed scores shaped (runs, tasks) -- or (runs,) for a single stratum.
    ``statistic``: ``iqm``, ``mean`` or ``median``; for (runs, 2) values also ``median_ratio`` / ``iqm_ratio``
    (column 0 over column 1, each column resampled on its own; see :mod:`hrlmeta.stats`).
    ``note``: how the values were computed, anything censored or excluded (goes in the report).
    ``budget``: our training budget in the unit of the claim's ``paper_budget`` (see module doc).
    ``extra``: anything else; ``extra["cost_s"]`` = measured seconds one seed spent on ``budget``;
    ``extra["bootstrap"]``: for a quantity that is not a statistic of per-seed values (e.g. where a curve
    averaged over seeds crosses a level), a callable ``(statistic, reps=, confidence=, seed=) -> (estimate,
    ci_low, ci_high)`` that resamples whole seeds itself; the claim is then decided on it and ``values`` are
    placeholders (one row per seed), told apart between specifications by ``extra["spec"]``.
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


# ----------------------------------------------------------------------------------------------
# measures
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """A named way to turn an experiment's tidy table into the per-seed values a claim is decided on:
    ``fn(table, params, cp) -> Samples`` with ``params`` the experiment's config params and ``cp`` the
    claim's ``params``; ``schema`` is the JSON schema ``cp`` must satisfy."""

    name: str
    fn: Callable
    schema: dict

    def __call__(self, table: pd.DataFrame, params: dict, cp: dict) -> Samples:
        return self.fn(table, params, cp)


class Measures(dict):
    """An experiment's named measures (``MEASURES`` in its ``measures.py``)::

        MEASURES = Measures()

        @MEASURES.register("speedup", {"baseline": {"type": "string"}, "agent": {"type": "string"}},
                           required=["agent"])
        def speedup(table, params, cp): ...

    ``properties`` are the JSON schemas of the measure's parameters; no other parameter is accepted.
    """

    def register(self, name: str, properties: dict | None = None, required=(), doc: str = ""):
        def deco(fn):
            if name in self:
                raise ValueError(f"measure {name!r} is registered twice")
            schema = {"type": "object", "additionalProperties": False,
                      "properties": dict(properties or {}), "required": list(required)}
            self[name] = Measure(name, fn, schema)
            return fn
        return deco
