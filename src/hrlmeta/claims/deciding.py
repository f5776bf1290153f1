"""Deciding claims: one row of claims.tsv (:func:`decide`), the learner-check column, every claim with its
robustness specifications, scale and budget (:func:`evaluate_all`, :class:`Evaluation`) and writing the
tables (:func:`write_tsv`); see :mod:`hrlmeta.claims`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import stats
from .declarations import check_measure
from .robustness import _measure_key, apply_spec, robustness_grid
from .samples import COLUMNS, ROBUSTNESS_TAIL, Samples
from .scale import falls_short, scale_of

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
                row["scale"] = scale_of(cfg, exp, registry=registry)
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
        row["scale"] = scale_of(cfg, exp, registry=registry)
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
    from ..tidy import atomic_write_text

    atomic_write_text(path, df.to_csv(sep="\t", index=False, float_format="%.6g"))
