"""Loading and validating claim declarations: :data:`CLAIM_SCHEMA`, :func:`check_claim`, :func:`load_claims`,
the check of a claim's measure and parameters (:func:`check_measure`, :func:`measure_claim`) and every declared
claim of a registry (:func:`declared_claims`); see :mod:`hrlmeta.claims`."""

from __future__ import annotations

import pandas as pd

from .. import stats
from .robustness import apply_spec, robustness_grid
from .samples import KINDS, REQUIRED_KEYS, ClaimError, Samples

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
    """One line per schema violation of a claim (or its params), as ``hrlmeta check`` words them (an unknown
    key with its closest known spellings)."""
    from ..check import _schema_lines

    return _schema_lines(instance, schema, "", "")


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
    from ..config import load_yaml

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
