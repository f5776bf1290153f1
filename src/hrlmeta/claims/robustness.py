"""A claim's specifications (its robustness grid): :func:`set_dotted`, :func:`robustness_grid`,
:func:`apply_spec`, and :func:`_measure_key` (what the measure sees; see :mod:`hrlmeta.claims`)."""

from __future__ import annotations

import copy
import itertools
import json

from .samples import ClaimError

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
