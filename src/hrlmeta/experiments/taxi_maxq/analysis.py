"""Torch-free analysis of ``taxi_maxq``'s tables, shared by its training, oracle, measures, figures and report:
the Taxi variants with their exact values (cached per process), steps-to-criterion per seed and of the curves
averaged over seeds (see the package's docstring), the per-seed speed-ups."""

from __future__ import annotations

import functools
import weakref

import numpy as np
import pandas as pd

from ...tidy import present
from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
EXPERIMENT = "taxi_maxq"
LABELS = {
    "flat_q": "flat Q-learning",
    "maxq_q": "MAXQ-Q, no abstraction",
    "maxq_q_abs": "MAXQ-Q, abstraction",
    "maxq_q_abs_greedy": "MAXQ-Q, abstraction + greedy execution",
}


# ----------------------------------------------------------------------------------------------
# environment and exact values (cached per process)
# ----------------------------------------------------------------------------------------------


def _env_kwargs(params: dict) -> dict:
    rw = params["rewards"]
    return dict(step_reward=float(rw["step"]), delivery_bonus=float(rw["delivery_bonus"]),
                illegal_reward=float(rw["illegal"]), distinct_destination=bool(params["distinct_destination"]))


def _variant_probs(variant: str, params: dict) -> tuple[float, float]:
    from ...envs.taxi import VARIANTS

    if variant not in VARIANTS:
        raise ValueError(f"variants: unknown Taxi variant {variant!r}; choose from {', '.join(VARIANTS)}")
    ms = float(params["move_success"]) if "noisy" in variant else 1.0
    fp = float(params["fickle_prob"]) if "fickle" in variant else 0.0
    if not 0.0 < ms <= 1.0:
        raise ValueError(f"move_success: must be a probability in (0, 1], got {ms!r}")
    if not 0.0 <= fp <= 1.0:
        raise ValueError(f"fickle_prob: must be a probability in [0, 1], got {fp!r}")
    return ms, fp


def _env_key(variant: str, params: dict) -> tuple:
    ms, fp = _variant_probs(variant, params)
    return (ms, fp, *sorted(_env_kwargs(params).items()))


@functools.lru_cache(maxsize=8)
def _env(key: tuple):
    from ...envs.taxi import aug_model, make_taxi

    ms, fp, *kw = key
    env = make_taxi(move_success=ms, fickle_prob=fp, **dict(kw))
    return env, aug_model(env)


@functools.lru_cache(maxsize=8)
def _oracle(key: tuple) -> dict:
    from .oracle import taxi_oracle

    return taxi_oracle(_env(key)[0])


# ----------------------------------------------------------------------------------------------
# steps to criterion
# ----------------------------------------------------------------------------------------------


def steps_to_criterion(cum_steps, returns, reference: float, tolerance: float, window: int,
                       rule: str = "first") -> tuple[int, bool]:
    """Primitive steps until the trailing ``window``-episode mean return is >= reference - tolerance:
    ``rule="first"``: the first episode end at which it is (and at least ``window`` episodes were played);
    ``rule="stays"``: the first from which it stays so to the end. Returns (steps, censored); a censored
    run counts at its length."""
    cum = np.asarray(cum_steps)
    r = np.asarray(returns, dtype=float)
    if rule == "stays":
        from ...shared.criterion import episodes_to_criterion

        # "trailing mean <= bound" (the Four Rooms rule, tolerance 0) on negated returns
        return episodes_to_criterion(cum, -r, -(reference - tolerance), 0.0, window)
    if rule != "first":
        raise ValueError(f"criterion.rule: unknown rule {rule!r}; choose first or stays")
    c = np.cumsum(np.r_[0.0, r])
    n = np.arange(1, len(r) + 1)
    mean = (c[n] - c[n - np.minimum(n, window)]) / np.minimum(n, window)
    ok = np.flatnonzero((mean >= reference - tolerance) & (n >= window))
    return (int(cum[ok[0]]), False) if ok.size else (int(cum[-1]), True)


def _criterion(params: dict, claim_params: dict | None = None) -> dict:
    crit = dict(params["criterion"])
    crit.update((claim_params or {}).get("criterion", {}))
    return crit


#: per-run arrays of the last tables analysed (id -> (weak reference, runs)): the claims' robustness
#: specifications ask for many criteria of the same 8M-row table, and grouping it is what costs
_RUNS: dict = {}


def _runs(table: pd.DataFrame) -> dict:
    """{(algo, seed, variant): {column: numpy array in episode order}} of a run table, grouped once per
    table (cached while the table lives)."""
    hit = _RUNS.get(id(table))
    if hit is not None and hit[0]() is table and hit[1] == len(table):
        return hit[2]
    cols = [c for c in table.columns if c in ("episode", "cum_steps", "return") or c.endswith("_return")]
    runs = {}
    for key, g in table[["algo", "seed", "variant", *cols]].groupby(["algo", "seed", "variant"], sort=True):
        g = g.sort_values("episode")
        runs[key] = {c: g[c].to_numpy() for c in cols}
    _RUNS.clear()
    _RUNS[id(table)] = (weakref.ref(table), len(table), runs)
    return runs


#: per-seed curves of the last table analysed ((id, algo, variant, window, step) -> (seeds, curves))
_CURVES: dict = {}


def seed_curves(table: pd.DataFrame, algo: str, variant: str, window: int,
                xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(seeds, curves shaped (seeds, len(xs))): each seed's trailing ``window``-trial mean return at the
    primitive-step counts ``xs`` (see :mod:`.curves`), for the runs of ``algo`` on ``variant``."""
    from .curves import seed_curve

    runs = _runs(table)
    key = (id(table), algo, variant, int(window), len(xs), int(xs[0]) if len(xs) else 0, int(xs[-1]) if len(xs) else 0)
    hit = _CURVES.get(key)
    if hit is not None and hit[0] is runs:
        return hit[1], hit[2]
    seeds = sorted(int(s) for (a, s, v) in runs if a == algo and v == variant)
    curves = np.array([seed_curve(runs[(algo, s, variant)]["cum_steps"], runs[(algo, s, variant)]["return"],
                                  window, xs) for s in seeds]).reshape(len(seeds), len(xs))
    if len(_CURVES) > 64 or any(k[0] != id(table) for k in _CURVES):
        _CURVES.clear()
    _CURVES[key] = (runs, np.array(seeds), curves)
    return np.array(seeds), curves


def reference_return(table: pd.DataFrame, variant: str, reference: str) -> float:
    """The oracle's ``reference`` mean return (``recursive_optimal`` / ``optimal``) of ``variant`` in the
    table (NaN where the table has no run of it)."""
    for (_, _, v), g in _runs(table).items():
        if v == variant:
            return float(g[f"{reference}_return"][0])
    return float("nan")


def criterion_table(table: pd.DataFrame, params: dict, crit: dict | None = None,
                    algos=None, variants=None) -> pd.DataFrame:
    """Steps-to-criterion per (algo, seed, variant): columns algo, seed, variant, stc, censored, reference
    (only the runs of ``algos`` / ``variants`` where given)."""
    crit = crit or params["criterion"]
    rows = []
    for (algo, seed, variant), g in _runs(table).items():
        if (algos is not None and algo not in algos) or (variants is not None and variant not in variants):
            continue
        ref = float(g[f"{crit['reference']}_return"][0])
        stc, cens = steps_to_criterion(g["cum_steps"], g["return"], ref, float(crit["tolerance"]),
                                       int(crit["window"]), crit["rule"])
        rows.append({"algo": algo, "seed": int(seed), "variant": variant, "stc": stc, "censored": cens,
                     "reference": ref})
    return pd.DataFrame(rows, columns=["algo", "seed", "variant", "stc", "censored", "reference"])


def _criterion_words(crit: dict) -> str:
    ref = {"recursive_optimal": "the recursively optimal mean return", "optimal": "the optimal mean return"}
    when = "first reaches" if crit["rule"] == "first" else "stays (to the end of the run) at or above"
    return (f"primitive steps until the trailing {crit['window']}-episode mean return {when} "
            f"{ref[crit['reference']]} - {crit['tolerance']} (oracle)")


def speedup_samples(table: pd.DataFrame, params: dict, baseline: str, agent: str, variants: list,
                    crit: dict | None = None) -> tuple[np.ndarray, dict]:
    """Per-seed ratio stc(baseline) / stc(agent), shaped (seeds, variants), and the censoring counts."""
    crit = crit or params["criterion"]
    ct = criterion_table(table, params, crit, algos={baseline, agent}, variants=set(variants))
    if ct.empty:
        return np.empty((0, len(variants))), {"censored": {}, "variants": []}
    piv = ct.pivot_table(index="seed", columns=["algo", "variant"], values="stc")
    cens = ct.groupby(["algo", "variant"])["censored"].sum().to_dict()
    cols = [v for v in variants if (baseline, v) in piv.columns and (agent, v) in piv.columns]
    vals = np.column_stack([piv[(baseline, v)].to_numpy() / piv[(agent, v)].to_numpy() for v in cols]) \
        if cols else np.empty((len(piv), 0))
    vals = vals[~np.isnan(vals).any(axis=1)] if vals.size else vals
    return vals, {"censored": {f"{a}/{v}": int(n) for (a, v), n in cens.items()}, "variants": cols}


def mean_curve_crossings(table: pd.DataFrame, params: dict, variant: str, crit: dict | None = None,
                         statistic: str = "mean") -> dict:
    """{algo: primitive steps at which its learning curve averaged over seeds reaches the criterion level
    (+inf: never within the run)} on ``variant`` (the speed claims' reading, :mod:`.curves`)."""
    from .curves import Criterion, crossing_steps, grid

    crit = crit or params["criterion"]
    xs = grid(int(params["n_steps"]), int(crit["curve_step"]))
    level = reference_return(table, variant, crit["reference"]) - float(crit["tolerance"])
    if not np.isfinite(level):
        return {}
    k = Criterion(level=level, xs=xs, rule=crit["rule"], hold=int(crit["hold"]))
    out = {}
    for algo in present(table, ALGOS):
        seeds, curves = seed_curves(table, algo, variant, int(crit["window"]), xs)
        if len(seeds):
            out[algo] = crossing_steps(curves, k, statistic)
    return out


def _per_seed_final(table: pd.DataFrame, algo: str, variants: list, column: str) -> tuple[np.ndarray, int]:
    """(seeds, variants) matrix of a per-run constant column; -inf (improper policy) counted separately."""
    sub = table[(table["algo"] == algo) & table["variant"].isin(variants)]
    piv = sub.groupby(["seed", "variant"])[column].first().unstack("variant")
    cols = [v for v in variants if v in piv.columns]
    m = piv[cols].to_numpy(dtype=float) if cols else np.empty((0, 0))
    return m, int(np.isneginf(m).sum())
