"""Scale detection and budget labels: :func:`scale_of` (against the reference configs, cached once per
process in :data:`_REFERENCE_CACHE`), :func:`falls_short` and :func:`verdict_label` (see :mod:`hrlmeta.claims`)."""

from __future__ import annotations

import json

import numpy as np

from .samples import EXECUTION_KEYS, EXECUTION_PARAM_KEYS, UNDER_BUDGET

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

    from ..config import DEFAULT_CONFIG, deep_merge, load_yaml, with_folder_blocks

    complete = (lambda c: c) if registry is None else (lambda c: with_folder_blocks(c, registry))
    d = Path(config_dir) if config_dir else DEFAULT_CONFIG.parent
    key = (str(d.resolve()), None if registry is None else tuple(registry.available()))
    if key not in _REFERENCE_CACHE:
        refs = {}
        if (d / "config.yaml").exists():
            base = load_yaml(d / "config.yaml")
            refs["default"] = complete(base)
            for name in ("smoke", "paper"):
                if (d / f"{name}.yaml").exists():
                    refs[name] = complete(deep_merge(base, load_yaml(d / f"{name}.yaml")))
        _REFERENCE_CACHE[key] = refs
    return _REFERENCE_CACHE[key]


def scale_of(cfg: dict, experiment: str, refs: dict[str, dict] | None = None, registry=None) -> str:
    """``smoke`` / ``default`` / ``paper`` when the experiment's block of ``cfg`` equals that scale's
    block (up to :data:`EXECUTION_KEYS`), ``custom`` otherwise."""
    refs = reference_configs(registry=registry) if refs is None else refs
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
