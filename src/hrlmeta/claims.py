"""The claims engine: claims are declared next to the experiment that measures them
(``src/hrlmeta/experiments/<experiment>/claims.yaml``, plus the optional extra file named by the config key
``claims:``), measured by one of that experiment's named measures (its ``measures.py``: ``MEASURES``, see
:class:`Measures`), and decided here with a seeded stratified bootstrap. The engine knows no experiment and no
claim: it is handed the experiment registry, and a claim selects its measure by name.

Each declared claim has::

    id: options_speedup_fourrooms        # stable id
    experiment: fourrooms_sutton         # optional in the experiment's own claims.yaml (= its folder)
    measure: speedup                     # a named measure of that experiment (measures.py)
    kind: experimental                   # optional: experimental (default) | analytic (answer known before
                                         #   training, from an oracle or by construction)
    source: "chapter, 'Four Rooms Experiment' and Q1"
    statement: "Q-learning with Options 3-5x faster than vanilla Q-learning"
    metric: "episodes-to-criterion, flat / options, per seed"   # in words
    expected: "3-5x"                      # the claimed value, in words
    expected_range: [3, 5]                # machine-readable interval; null = unbounded side
    statistic: iqm                        # optional (default: what the measure returns)
    params: {...}                         # optional: the measure's parameters (validated against its schema)
    robustness:                           # optional: analyst choices to vary (a specification curve)
      vary:                               #   dotted paths into this claim -> values to try
        params.criterion.window: [1, 10, 20, 50]
        statistic: [iqm, median, mean]
    paper_budget:                         # optional: the paper's training budget for this claim
      value: 1.0e8                        #   in the unit the experiment reports as Samples.budget
      unit: "env steps per cell"
      source: "Duan et al. 2016, Sec. 5"

``robustness.vary`` may also be a list of such mappings: the specifications are then the union of
their grids (for choices that only make sense together, e.g. a window only for a moving-average
criterion); a choice a sub-grid does not vary keeps the claim's own value (empty in robustness.tsv).

Robustness: every combination of ``robustness.vary`` is set into a copy of the claim (``statistic``
replaces the claim's statistic, ``params.x.y`` sets ``claim["params"]["x"]["y"]``; every varied value is
validated against the measure's schema at load), measured by the same measure on the same tables (never a new run; specifications that differ only in ``statistic``
are measured once) and decided with the same bootstrap: one index draw shared by every specification of
a claim (:func:`hrlmeta.stats.bootstrap_many`). ``robust`` in claims.tsv is the share of specifications
whose verdict equals the primary (the claim as declared) one, where a ``fails`` on the other side of
the expected range (``side``: ``below`` / ``above``) counts as a different verdict;
``results/claims/robustness.tsv`` has a row per specification (its choices, estimate, CI, verdict,
side, and ``primary``: the specification measures exactly what the primary does).

Claims files: every experiment's ``claims.yaml`` is read in report order; the file named by the config
key ``claims:`` (optional, default none) adds claims, and a claim there whose id an experiment already
declares replaces that declaration (an override). Every claim is validated at load against
:data:`CLAIM_SCHEMA` (``additionalProperties: false``) and, where the registry is given, its measure's
parameters against the measure's schema: an unknown key, measure or parameter is a :class:`ClaimError`
naming the claim id and the key.

Validation of the measures imports the experiment's code (``measures.py``); :func:`declared_claims` with
``check_measures=False`` reads and checks everything else without importing it.

Budget: a measure may return ``Samples(budget=...)``, our training budget in the unit of
``paper_budget``; ``budget_fraction`` = ours / the paper's. It may also put ``cost_s`` (measured CPU or
wall seconds one seed spent on that budget) in ``Samples.extra``; the report projects the paper's budget
from it; and ``budget_binds: False`` where no run was cut short by the budget (e.g. every run met its
criterion before its last episode), so that more training would not have been the remedy. Where ``budget_fraction < 1`` and the estimate falls short of the claim (see
:func:`falls_short`), the report and README write the verdict ``fails (under budget)``; the tsv keeps
``fails``.

Scale (:func:`scale_of`): ``smoke``, ``default`` or ``paper`` when the experiment's block of the merged
config equals that of ``config/config.yaml`` (merged with ``config/smoke.yaml`` / ``config/paper.yaml``)
up to keys that do not change results (``enabled``, ``algos``, ``threads``, ``seeds_per_job``, ``device``,
``torch_threads``); ``custom`` otherwise.

Verdict (see :func:`hrlmeta.stats.verdict`): ``holds`` when the whole 95% CI lies in
``expected_range``, ``fails`` when the CI misses it entirely, ``inconclusive`` otherwise.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from typing import Callable

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


# ----------------------------------------------------------------------------------------------
# declarations
# ----------------------------------------------------------------------------------------------

_TEXT = {"type": "string", "minLength": 1}
_BOUND = {"type": ["number", "null"]}
#: JSON schema of one declared claim (the measure's ``params`` are checked against the measure's own schema)
CLAIM_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": list(REQUIRED_KEYS),
    "properties": {
        "id": {"type": "string", "pattern": r"^[A-Za-z0-9_]+$"},
        "experiment": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
        "measure": {"type": "string", "pattern": r"^[A-Za-z0-9_]+$"},
        "kind": {"enum": list(KINDS)},
        "source": _TEXT,
        "statement": _TEXT,
        "metric": _TEXT,
        "expected": {"type": ["string", "number"]},
        "expected_range": {"type": "array", "minItems": 2, "maxItems": 2, "items": _BOUND},
        "statistic": {"type": "string"},
        "params": {"type": ["object", "null"]},
        "robustness": {"type": "object"},
        "paper_budget": {"type": "object"},
        "depends_on_timing": {"type": "boolean"},
        # how the claim was posed (the report's per-experiment table): the paper's words, the quantity
        # measured, the threshold and why that threshold
        "posed": {"type": "object", "additionalProperties": False,
                  "required": ["words", "quantity", "threshold", "why"],
                  "properties": {k: _TEXT for k in ("words", "quantity", "threshold", "why")}},
        # every change of the posing (see POSING_KEYS) after the claim was first decided, oldest first;
        # the claim's fingerprint in its folder's claims.lock moves only with a new entry here
        "revisions": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["date", "changed", "why", "result_known"],
            "properties": {"date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                           "changed": _TEXT, "why": _TEXT, "result_known": {"type": "boolean"}}}},
    },
}


def _schema_errors(instance, schema: dict) -> list[str]:
    import jsonschema

    validator = jsonschema.validators.validator_for(schema)(schema)
    out = []
    for e in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        where = ".".join(str(p) for p in e.absolute_path)
        if e.validator == "additionalProperties":
            extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
            keys = ", ".join(f"{where + '.' if where else ''}{k}" for k in extra)
            out.append(f"{keys}: unknown key (known: {', '.join(sorted(e.schema.get('properties', {}))) or 'none'})")
        elif e.validator == "required":
            out.append(f"{where or '<top level>'}: {e.message}")
        else:
            out.append(f"{where or '<top level>'}: {e.message}")
    return out


def _check_robustness(path, c: dict) -> None:
    rob = c["robustness"]
    if not isinstance(rob, dict) or "vary" not in rob:
        raise ClaimError(f"{path}: claim {c['id']!r}: robustness must be a mapping with a 'vary' key")
    if set(rob) - {"vary"}:
        raise ClaimError(f"{path}: claim {c['id']!r}: robustness.{sorted(set(rob) - {'vary'})[0]}: unknown key "
                         "(known: vary)")
    grids = rob["vary"] if isinstance(rob["vary"], list) else [rob["vary"]]
    if not grids:
        raise ClaimError(f"{path}: claim {c['id']!r}: robustness.vary is empty")
    for grid in grids:
        if not isinstance(grid, dict) or not grid:
            raise ClaimError(f"{path}: claim {c['id']!r}: robustness.vary must map dotted paths to value lists")
        for key, values in grid.items():
            root = str(key).split(".")[0]
            if root not in ("statistic", "params", "expected_range"):
                raise ClaimError(f"{path}: claim {c['id']!r}: robustness.vary.{key}: only 'statistic', "
                                 "'expected_range' and 'params.*' can be varied")
            if not isinstance(values, list) or not values:
                raise ClaimError(f"{path}: claim {c['id']!r}: robustness.vary.{key} must be a non-empty list")
            if key == "statistic":
                for v in values:
                    stats.get_statistic(v)


def _check_budget(path, c: dict) -> None:
    pb = c["paper_budget"]
    if not isinstance(pb, dict) or not {"value", "unit", "source"} <= set(pb):
        raise ClaimError(f"{path}: claim {c['id']!r}: paper_budget needs value, unit and source")
    if set(pb) - {"value", "unit", "source"}:
        raise ClaimError(f"{path}: claim {c['id']!r}: paper_budget.{sorted(set(pb) - {'value', 'unit', 'source'})[0]}: "
                         "unknown key (known: source, unit, value)")
    v = pb["value"]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
        raise ClaimError(f"{path}: claim {c['id']!r}: paper_budget.value must be a positive number, got {v!r}")


def check_claim(c: dict, where="claims") -> dict:
    """Validate one declaration (structure, statistic, robustness, budget; not yet its measure): a
    :class:`ClaimError` naming the claim id and the key."""
    if not isinstance(c, dict):
        raise ClaimError(f"{where}: a claim must be a mapping, got {c!r}")
    cid = c.get("id", "?")
    missing = [k for k in REQUIRED_KEYS if k not in c]
    if missing:
        raise ClaimError(f"{where}: claim {cid!r} lacks {missing}")
    errs = _schema_errors(c, CLAIM_SCHEMA)
    if errs:
        raise ClaimError(f"{where}: claim {cid!r}: " + "; ".join(errs))
    lo, hi = c["expected_range"]
    if lo is not None and hi is not None and lo > hi:
        raise ClaimError(f"{where}: claim {cid!r}: expected_range low {lo} > high {hi}")
    if "statistic" in c:
        try:
            stats.get_statistic(c["statistic"])
        except KeyError as e:
            raise ClaimError(f"{where}: claim {cid!r}: statistic: {e.args[0]}") from None
    if "robustness" in c:
        _check_robustness(where, c)
    if "paper_budget" in c:
        _check_budget(where, c)
    return c


def load_claims(path, experiment: str | None = None) -> list[dict]:
    """The claims of one file (a top-level ``claims:`` list), each checked by :func:`check_claim`;
    ``experiment`` fills in (and must equal) each claim's ``experiment`` (an experiment's own file)."""
    from .config import load_yaml

    doc = load_yaml(path)
    claims = (doc.get("claims") or []) if isinstance(doc, dict) else doc
    if not isinstance(claims, list):
        raise ClaimError(f"{path}: expected a top-level list 'claims:'")
    if isinstance(doc, dict) and set(doc) - {"claims"}:
        raise ClaimError(f"{path}: {sorted(set(doc) - {'claims'})[0]}: unknown top-level key (known: claims)")
    seen = set()
    out = []
    for i, c in enumerate(claims):
        if experiment is not None and isinstance(c, dict):
            if c.get("experiment", experiment) != experiment:
                raise ClaimError(f"{path}: claim {c.get('id', '?')!r}: experiment {c['experiment']!r} differs "
                                 f"from the folder's experiment {experiment!r}")
            c = {**c, "experiment": experiment}
        if isinstance(c, dict) and "id" not in c:
            raise ClaimError(f"{path}: claim #{i} ({c.get('id', '?')}) lacks ['id']")
        if isinstance(c, dict) and isinstance(c.get("revisions"), list):
            # an unquoted YAML date is a date object: the same day as text
            c = {**c, "revisions": [{**r, "date": r["date"].isoformat()}
                                    if isinstance(r, dict) and hasattr(r.get("date"), "isoformat") else r
                                    for r in c["revisions"]]}
        check_claim(c, path)
        if c["id"] in seen:
            raise ClaimError(f"{path}: duplicate claim id {c['id']!r}")
        seen.add(c["id"])
        out.append(c)
    return out


def check_measure(c: dict, measures: dict, where="claims") -> None:
    """The claim names one of ``measures`` and its ``params`` (and every robustness variant of them) satisfy
    that measure's schema; a :class:`ClaimError` naming the claim id and the key otherwise."""
    name = c["measure"]
    if name not in measures:
        raise ClaimError(f"{where}: claim {c.get('id', '?')!r}: measure: unknown measure {name!r} of experiment "
                         f"{c.get('experiment', '?')!r} (known: {', '.join(sorted(measures)) or 'none'})")
    schema = measures[name].schema
    errs = _schema_errors(c.get("params") or {}, schema)
    if errs:
        raise ClaimError(f"{where}: claim {c.get('id', '?')!r}: measure {name!r}: "
                         + "; ".join(f"params.{e}" for e in errs))
    for spec in robustness_grid(c):
        keys = [k for k in spec if k.startswith("params.")]
        if not keys:
            continue
        variant = apply_spec(c, {k: spec[k] for k in keys})
        errs = _schema_errors(variant.get("params") or {}, schema)
        if errs:
            raise ClaimError(f"{where}: claim {c['id']!r}: robustness.vary {', '.join(keys)} = "
                             f"{[spec[k] for k in keys]}: measure {name!r}: " + "; ".join(f"params.{e}" for e in errs))


def measure_claim(measures: dict, claim: dict, table: pd.DataFrame, params: dict) -> Samples:
    """The per-seed values of one claim: its ``measure`` (one of ``measures``, validated first) on
    ``table`` with the experiment's ``params`` and the claim's own ``params``."""
    check_measure(claim, measures)
    return measures[claim["measure"]](table, params, claim.get("params") or {})


def declared_claims(registry, extra=None, check_measures: bool = True) -> list[dict]:
    """Every claim: each experiment's ``claims.yaml`` in report order, then the ``extra`` file (its claims
    are added; one whose id an experiment declares replaces that declaration). With ``check_measures``,
    each claim's measure and parameters are validated too (this imports the experiments' measures)."""
    claims: list[dict] = []
    where: dict[str, str] = {}
    for name in registry.available():
        path = registry.claims_path(name)
        if path is None:
            continue
        for c in load_claims(path, experiment=name):
            if c["id"] in where:
                raise ClaimError(f"{path}: claim id {c['id']!r} is declared in {where[c['id']]} too")
            where[c["id"]] = str(path)
            claims.append(c)
    if extra:
        index = {c["id"]: i for i, c in enumerate(claims)}
        for c in load_claims(extra):
            if c["id"] in index:
                claims[index[c["id"]]] = c
            else:
                index[c["id"]] = len(claims)
                claims.append(c)
            where[c["id"]] = str(extra)
    known = set(registry.available())
    for c in claims:
        if c["experiment"] not in known:
            raise ClaimError(f"{where[c['id']]}: claim {c['id']!r}: experiment: unknown experiment "
                             f"{c['experiment']!r}")
    if check_measures:
        cache: dict[str, dict] = {}
        for c in claims:
            exp = c["experiment"]
            if exp not in cache:
                cache[exp] = registry.measures(exp)
            check_measure(c, cache[exp], where[c["id"]])
    return claims


# ----------------------------------------------------------------------------------------------
# specifications (robustness)
# ----------------------------------------------------------------------------------------------


def set_dotted(claim: dict, path: str, value) -> dict:
    """A deep copy of ``claim`` with ``claim[a][b][c] = value`` for ``path = "a.b.c"`` (missing or
    null intermediate mappings are created)."""
    out = copy.deepcopy(claim)
    keys = path.split(".")
    node = out
    for k in keys[:-1]:
        if not isinstance(node.get(k), dict):
            if node.get(k) is not None:
                raise ClaimError(f"claim {claim.get('id', '?')!r}: cannot set {path}: {k} is not a mapping")
            node[k] = {}
        node = node[k]
    node[keys[-1]] = copy.deepcopy(value)
    return out


def robustness_grid(claim: dict) -> list[dict]:
    """The claim's specifications: one ``{dotted path: value}`` per combination of ``robustness.vary``
    (the union over sub-grids when ``vary`` is a list), duplicates dropped, in declaration order."""
    rob = claim.get("robustness")
    if not rob:
        return []
    grids = rob["vary"] if isinstance(rob["vary"], list) else [rob["vary"]]
    specs, seen = [], set()
    for grid in grids:
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            spec = dict(zip(keys, combo))
            key = json.dumps(spec, sort_keys=True, default=str)
            if key not in seen:
                seen.add(key)
                specs.append(spec)
    return specs


def apply_spec(claim: dict, spec: dict) -> dict:
    out = claim
    for path, value in spec.items():
        out = set_dotted(out, path, value)
    return out


def _measure_key(claim: dict) -> str:
    """What the measure sees, minus the statistic (specifications differing only there share it)."""
    c = {k: v for k, v in claim.items() if k not in ("statistic", "robustness", "paper_budget")}
    return json.dumps(c, sort_keys=True, default=str)


# ----------------------------------------------------------------------------------------------
# scale and budget
# ----------------------------------------------------------------------------------------------


def _strip(block: dict) -> dict:
    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items() if k not in EXECUTION_PARAM_KEYS}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    b = {k: v for k, v in (block or {}).items() if k not in EXECUTION_KEYS}
    b.setdefault("first_seed", 0)
    return json.loads(json.dumps(clean(b)))  # JSON round trip, as the workflow passes the config


_REFERENCE_CACHE: dict = {}


def reference_configs(config_dir=None, registry=None) -> dict[str, dict]:
    """{"default": config.yaml, "smoke": config.yaml + smoke.yaml, "paper": config.yaml + paper.yaml}
    (unvalidated, merged as Snakemake merges them, each experiment's block completed from its folder as the
    workflow completes it: :func:`hrlmeta.config.with_folder_blocks`); missing files are left out."""
    from pathlib import Path

    from .config import DEFAULT_CONFIG, deep_merge, load_yaml, with_folder_blocks

    if registry is None:
        from .experiments import default

        registry = default()
    d = Path(config_dir) if config_dir else DEFAULT_CONFIG.parent
    key = (str(d.resolve()), tuple(registry.available()))
    if key not in _REFERENCE_CACHE:
        refs = {}
        if (d / "config.yaml").exists():
            base = load_yaml(d / "config.yaml")
            refs["default"] = with_folder_blocks(base, registry)
            for name in ("smoke", "paper"):
                if (d / f"{name}.yaml").exists():
                    refs[name] = with_folder_blocks(deep_merge(base, load_yaml(d / f"{name}.yaml")), registry)
        _REFERENCE_CACHE[key] = refs
    return _REFERENCE_CACHE[key]


def scale_of(cfg: dict, experiment: str, refs: dict[str, dict] | None = None) -> str:
    """``smoke`` / ``default`` / ``paper`` when the experiment's block of ``cfg`` equals that scale's
    block (up to :data:`EXECUTION_KEYS`), ``custom`` otherwise."""
    refs = reference_configs() if refs is None else refs
    mine = _strip(cfg.get("experiments", {}).get(experiment, {}))
    for name in ("default", "smoke", "paper"):  # default first: an overlay may leave a block unchanged
        ref = refs.get(name, {}).get("experiments", {}).get(experiment)
        if ref is not None and _strip(ref) == mine:
            return name
    return "custom"


def falls_short(estimate: float, expected_range) -> bool:
    """The estimate lies on the side of the claim that more training would move it away from: below
    ``low`` where the claim has a lower bound, above ``high`` where it only has an upper bound
    (e.g. a loss below 5%). An estimate beyond a two-sided range's upper end (faster than claimed)
    does not fall short."""
    if estimate is None or not np.isfinite(estimate):
        return False
    low, high = expected_range
    if low is not None:
        return bool(estimate < low)
    return bool(high is not None and estimate > high)


def verdict_label(verdict: str, budget_fraction, estimate=None, expected_range=None, binds: bool = True) -> str:
    """How a verdict is written in the report and README: ``fails (under budget)`` where we trained
    less than the paper (``budget_fraction < 1``), the estimate falls short of the claim (with no
    ``expected_range`` given, every under-budget ``fails``) and the budget binds (``binds``, from
    budget.json: False where the experiment reports that no run was cut short by it, e.g. every run met
    its criterion before its last episode); the verdict itself otherwise."""
    try:
        bf = float(budget_fraction)
    except (TypeError, ValueError):
        bf = float("nan")
    if verdict == "fails" and bf < 1 and binds and (expected_range is None or falls_short(estimate, expected_range)):
        return UNDER_BUDGET
    return verdict


# ----------------------------------------------------------------------------------------------
# deciding
# ----------------------------------------------------------------------------------------------


def _as_2d(values) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return v[:, None] if v.ndim == 1 else v


def decide(claim: dict, samples: Samples, reps: int, confidence: float, seed: int) -> dict:
    """One row of claims.tsv (without robustness, scale and budget; see :func:`evaluate_all`)."""
    values = _as_2d(samples.values)
    statistic = claim.get("statistic", samples.statistic)
    own = samples.extra.get("bootstrap")
    if own is not None:
        est, lo, hi = own(statistic, reps=reps, confidence=confidence, seed=seed)
    else:
        (est, lo, hi), = stats.bootstrap_many([values], [statistic], reps=reps, confidence=confidence, seed=seed)
    return _row(claim, samples, values, est, lo, hi)


def _row(claim, samples, values, est, lo, hi) -> dict:
    n_seeds = samples.n_seeds if samples.n_seeds is not None else values.shape[0]
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
        "robust": float("nan"),
        "scale": "",
        "budget_fraction": float("nan"),
        "kind": claim.get("kind", "experimental"),
        "learner_check": "",
    }


def _strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from _strings(v)
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _strings(v)


def learner_checks_of(claim: dict, registry) -> list[str]:
    """The learner checks a claim's estimate relies on: those its experiment's ``experiment.yaml`` lists
    (``learner_checks``: algorithm -> check ids) for every algorithm the claim's params name (an algorithm
    id anywhere among the params' strings; every algorithm of the experiment where they name none, as when
    the measure picks its algorithms itself); none for an analytic claim."""
    if claim.get("kind") == "analytic":
        return []
    try:
        desc = registry.describe(claim["experiment"])
    except (AttributeError, KeyError, OSError):  # a registry that describes nothing names no checks
        return []
    table = desc.get("learner_checks") or {}
    named = set(_strings(claim.get("params") or {}))
    unchecked = desc.get("learner_unchecked")
    if unchecked:
        return [f"unchecked ({unchecked})"]
    algos = set(desc.get("algos") or ())
    if not named & algos:  # the measure picks its algorithms itself: every learner of the experiment
        named = algos
    out: list[str] = []
    for algo, checks in table.items():
        if algo in named:
            out += [c for c in checks if c not in out]
    return out


def learner_check_cell(checks: list[str], verdicts: dict[str, str]) -> str:
    """``learner_td3_pendulum: holds; ...`` (``not run`` for a check that was not decided in this run)."""
    return "; ".join(c if c.startswith("unchecked") else f"{c}: {verdicts.get(c, 'not run')}" for c in checks)


def failed_checks(cell) -> list[str]:
    """The check ids of a learner_check cell whose verdict is not ``holds`` (a failing, inconclusive or
    missing check leaves the claim's learner unproven)."""
    out = []
    for part in str(cell or "").split(";"):
        if part.strip().startswith("unchecked"):
            out.append(part.strip())
        elif ":" in part:
            cid, verdict = (s.strip() for s in part.split(":", 1))
            if verdict != "holds":
                out.append(f"{cid} ({verdict})")
    return out


def _cell_value(v):
    if isinstance(v, (list, dict, tuple)):
        return json.dumps(v)
    return v


@dataclass
class Evaluation:
    claims: pd.DataFrame
    notes: dict
    robustness: pd.DataFrame
    budget: dict
    #: each decided claim's per-seed values as decided (``{"statistic", "values"}``: runs x tasks, as lists;
    #: non-finite values as strings) -- what anyone can re-decide with another tool (tests/test_rliable.py)
    samples: dict = field(default_factory=dict)


def evaluate_all(claims: list[dict], tables: dict[str, pd.DataFrame], cfg: dict, registry) -> Evaluation:
    """Decide every claim whose experiment has a table, each of its robustness specifications, its
    scale and its budget fraction. ``registry`` gives each experiment's measures (``measures(name)``)."""
    boot = {"reps": 2000, "confidence": 0.95, "seed": 20261121, **cfg.get("bootstrap", {})}
    rows, notes, rob_rows, budget, decided = [], {}, [], {}, {}
    choice_cols: list[str] = []
    measures_of: dict[str, dict] = {}
    for claim in claims:  # every claim that will be measured is checked before any is measured
        exp = claim["experiment"]
        if exp in tables:
            if exp not in measures_of:
                measures_of[exp] = registry.measures(exp)
            check_measure(claim, measures_of[exp])
    for claim in claims:
        exp = claim["experiment"]
        if exp not in tables:
            if cfg.get("experiments", {}).get(exp, {}).get("enabled", True) is False:
                # declared but not run at this scale: say so in the table instead of leaving it out
                row = _row(claim, Samples(values=np.empty((0, 1))), np.empty((0, 1)), *(float("nan"),) * 3)
                row["scale"] = scale_of(cfg, exp)
                rows.append(row)
                notes[claim["id"]] = (f"experiment {exp} is not run at this scale (enabled: false in the "
                                      f"merged config): no seeds, so inconclusive")
            continue
        fn = measures_of[exp][claim["measure"]]
        params = cfg["experiments"][exp].get("params", {})
        cache: dict[str, Samples] = {}

        def measure(c):
            k = _measure_key(c)
            if k not in cache:
                cache[k] = fn(tables[exp], params, c.get("params") or {})
            return cache[k]

        samples = measure(claim)
        specs = robustness_grid(claim)
        variants = [apply_spec(claim, s) for s in specs]
        spec_samples = [measure(v) for v in variants]
        all_values = [_as_2d(samples.values)] + [_as_2d(s.values) for s in spec_samples]
        all_stats = [claim.get("statistic", samples.statistic)] + [
            v.get("statistic", s.statistic) for v, s in zip(variants, spec_samples)]
        results = stats.bootstrap_many(all_values, all_stats, reps=boot["reps"],
                                       confidence=boot["confidence"], seed=boot["seed"])
        for i, s in enumerate([samples, *spec_samples]):  # quantities that resample whole seeds themselves
            own = s.extra.get("bootstrap")
            if own is not None:
                results[i] = tuple(own(all_stats[i], reps=boot["reps"], confidence=boot["confidence"],
                                       seed=boot["seed"]))
        row = _row(claim, samples, all_values[0], *results[0])
        decided[claim["id"]] = ({"statistic": all_stats[0], "values": None,
                                 "note": "a quantity of the seeds' curves (the measure resamples whole seeds "
                                         "itself): no per-seed scores"}
                                if samples.extra.get("bootstrap") is not None else
                                {"statistic": all_stats[0], "values": [
                                    [float(x) if np.isfinite(x) else str(x) for x in r] for r in all_values[0]]})
        for spec, v, s, vals, st, (est, lo, hi) in zip(specs, variants, spec_samples, all_values[1:], all_stats[1:],
                                                       results[1:]):
            for k in spec:
                if k not in choice_cols:
                    choice_cols.append(k)
            low, high = v["expected_range"]
            rob_rows.append({
                "claim_id": claim["id"], **{k: _cell_value(x) for k, x in spec.items()},
                "estimate": est, "ci_low": lo, "ci_high": hi, "verdict": stats.verdict(lo, hi, low, high),
                "side": stats.side(lo, hi, low, high),
                "primary": bool(st == all_stats[0] and vals.shape == all_values[0].shape
                                and np.array_equal(vals, all_values[0], equal_nan=True)
                                and s.extra.get("spec") == samples.extra.get("spec")
                                and v["expected_range"] == claim["expected_range"]),
            })
        if specs:
            own = (row["verdict"], stats.side(row["ci_low"], row["ci_high"], *claim["expected_range"]))
            row["robust"] = float(np.mean([(r["verdict"], r["side"]) == own for r in rob_rows[-len(specs):]]))
        row["scale"] = scale_of(cfg, exp)
        if "paper_budget" in claim:
            pb = claim["paper_budget"]
            info = {"paper": float(pb["value"]), "unit": pb["unit"], "source": pb["source"],
                    "ours": samples.budget, "cost_s": samples.extra.get("cost_s"),
                    "binds": bool(samples.extra.get("budget_binds", True))}
            if samples.budget is not None:
                info["fraction"] = row["budget_fraction"] = float(samples.budget) / float(pb["value"])
                info["falls_short"] = falls_short(row["estimate"], claim["expected_range"])
            budget[claim["id"]] = info
        rows.append(row)
        if samples.note:
            notes[claim["id"]] = samples.note
    verdicts = {r["claim_id"]: r["verdict"] for r in rows}
    by_id = {c["id"]: c for c in claims}
    for r in rows:  # a claim without seeds (a published value listed, an experiment not run) relies on no learner
        if r["n_seeds"] > 0:
            r["learner_check"] = learner_check_cell(learner_checks_of(by_id[r["claim_id"]], registry), verdicts)
    rob = pd.DataFrame(rob_rows, columns=["claim_id", *choice_cols, *ROBUSTNESS_TAIL])
    return Evaluation(pd.DataFrame(rows, columns=COLUMNS), notes, rob, budget, decided)


def write_tsv(df: pd.DataFrame, path) -> None:
    from .tidy import atomic_write_text

    atomic_write_text(path, df.to_csv(sep="\t", index=False, float_format="%.6g"))


# ----------------------------------------------------------------------------------------------
# what a verdict depends on (one sentence per claim, from robustness.tsv)
# ----------------------------------------------------------------------------------------------


def _fmt_value(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _short(col: str) -> str:
    return col.split(".")[-1]


def _conditions(sub: pd.DataFrame, mask: np.ndarray, cols: list[str]) -> list[str]:
    """Single-choice conditions (``col >= v``, ``col <= v`` for numeric choices, else ``col = v``) under
    which ``mask`` holds for every specification that has the choice; trivial ones (all specifications)
    are left out."""
    out = []
    for c in cols:
        col = sub[c]
        have = col.notna().to_numpy()
        vals = list(dict.fromkeys(col[have]))
        if len(vals) < 2:
            continue
        numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                      for v in vals)
        found = []
        if numeric and len(vals) > 2:
            x = col.to_numpy(dtype=float)
            order = sorted(vals)
            for v in order[1:]:
                if mask[have & (x >= v)].all():
                    found.append(f"{_short(c)} >= {_fmt_value(v)}" if v != order[-1] else
                                 f"{_short(c)} = {_fmt_value(v)}")
                    break
            for v in reversed(order[:-1]):
                if mask[have & (x <= v)].all():
                    found.append(f"{_short(c)} <= {_fmt_value(v)}" if v != order[0] else
                                 f"{_short(c)} = {_fmt_value(v)}")
                    break
        if not found:
            for v in vals:
                sel = have & (col == v).to_numpy()
                if mask[sel].all():
                    found.append(f"{_short(c)} = {_fmt_value(v)}")
        out += found
    return out


def _necessary(sub: pd.DataFrame, mask: np.ndarray, cols: list[str]) -> list[str]:
    """Single-choice conditions every specification in ``mask`` satisfies (and some outside do not)."""
    out = []
    if not mask.any():
        return out
    for c in cols:
        col = sub[c]
        if col[mask].isna().any():
            continue
        vals = list(dict.fromkeys(col.dropna()))
        mine = list(dict.fromkeys(col[mask]))
        numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                      for v in vals)
        if numeric and len(vals) > 2:
            if min(mine) == max(mine):
                out.append(f"{_short(c)} = {_fmt_value(mine[0])}")
                continue
            if min(mine) > min(vals):
                out.append(f"{_short(c)} >= {_fmt_value(min(mine))}")
            if max(mine) < max(vals):
                out.append(f"{_short(c)} <= {_fmt_value(max(mine))}")
        elif len(mine) == 1 and len(vals) > 1:
            out.append(f"{_short(c)} = {_fmt_value(mine[0])}")
    return out


def outcome(verdict: str, side: str = "") -> str:
    """A verdict with the side of a failure: ``fails (above)``, ``fails (below)``, ``holds``, ..."""
    return f"{verdict} ({side})" if verdict == "fails" and isinstance(side, str) and side else verdict


def dependence_sentence(rob: pd.DataFrame, claim_id: str, primary_verdict: str, primary_side: str = "") -> str:
    """What the claim's verdict depends on, generated from its rows of robustness.tsv, e.g. "fails (above)
    in 40/72 specifications (as the primary), fails (below) in 20/72, inconclusive in 12/72; fails (below)
    whenever full_window = True"."""
    sub = rob[rob["claim_id"] == claim_id].reset_index(drop=True)
    if sub.empty:
        return ""
    cols = [c for c in sub.columns if c not in ("claim_id", *ROBUSTNESS_TAIL) and sub[c].notna().any()]
    side_col = sub["side"] if "side" in sub else pd.Series([""] * len(sub))
    out = pd.Series([outcome(v, s if isinstance(s, str) else "") for v, s in zip(sub["verdict"], side_col)])
    primary = outcome(primary_verdict, primary_side)
    n = len(sub)
    counts = out.value_counts()
    order = [primary] + sorted(o for o in counts.index if o != primary)
    if counts.get(primary, 0) == n:
        return (f"{primary} in all {n} specifications: the verdict does not depend on the choices varied "
                f"({', '.join(_short(c) for c in cols)}).")
    text = ", ".join(f"{o} in {int(counts[o])}/{n}" + (" (the primary's verdict)" if o == primary else "")
                     for o in order if o in counts)
    clauses = []
    for o in order:
        if o not in counts:
            continue
        mask = (out == o).to_numpy()
        conds = _conditions(sub, mask, cols)
        if conds:
            clauses.append(f"{o} whenever {' or '.join(conds)}")
        need = [c for c in _necessary(sub, mask, cols) if c not in conds]
        if 0 < len(need) <= 2:
            clauses.append(f"{o} only where {' and '.join(need)}")
    # the primary's verdict, by value of each choice (the choices that move it, most first)
    agree = (out == primary).to_numpy()
    by_choice = []
    for c in cols:
        have = sub[c].notna().to_numpy()
        share = pd.Series(agree[have]).groupby(sub[c][have].map(_fmt_value).to_numpy(), sort=False).agg(
            ["sum", "count"])
        if len(share) > 1:
            spread = (share["sum"] / share["count"]).max() - (share["sum"] / share["count"]).min()
            by_choice.append((spread, f"{_short(c)} " + ", ".join(
                f"{v}: {int(r['sum'])}/{int(r['count'])}" for v, r in share.iterrows())))
    by_choice = [t for sp, t in sorted(by_choice, key=lambda x: -x[0]) if sp > 0]
    tail = f" Specifications with the primary's verdict, by choice: {'; '.join(by_choice)}." if by_choice else ""
    return f"{text} specifications" + (f"; {'; '.join(clauses)}" if clauses else "") + "." + tail
