"""Experiment ``taxi_maxq``: MAXQ-Q vs flat Q-learning on the Taxi domain, faithful to Dietterich (2000),
"Hierarchical Reinforcement Learning with the MAXQ Value Function Decomposition", JAIR 13:227-303,
Section 7.1 ("The Fickle Taxi Task", Figures 7 and 8).

Algorithms (the paper's four configurations): ``flat_q`` (flat Q-learning), ``maxq_q`` (MAXQ-Q without
state abstraction), ``maxq_q_abs`` (with the Sec. 5.1.6 abstractions), ``maxq_q_abs_greedy`` (with the
abstractions and hierarchical greedy execution, the interruption length L falling from 500 by 10 per
trial). Hyper-parameters: the paper's (``config/config.yaml``).

One training run (``train(algo, seed, params)``) plays every variant in ``params.variants`` for
``n_steps`` primitive steps each (the last episode is played to its end). Rows: one per episode, with
``variant``, ``cum_steps`` (primitive steps up to the end of the episode), the oracle's ``optimal_return``,
``recursive_optimal_return`` and ``random_return`` (exact mean returns over the start distribution) and
``final_policy_return``: the exact mean return of the agent's final greedy policy (flat: argmax Q; MAXQ:
the ordered greedy hierarchical policy executed call-and-return; greedy-execution agent: the hierarchically
greedy policy it executes at the end), plus ``final_hierarchical_return`` / ``final_hg_return`` (MAXQ
agents: both readings of the learned tables).

Steps-to-criterion (``criterion``), two readings. The paper's (the speed claims', :mod:`.curves`): the
primitive steps at which the learning curve averaged over seeds (each seed's trailing ``window``-trial mean
return, read every ``curve_step`` steps) reaches reference - ``tolerance`` and holds it ``hold`` steps
(``rule: stays``: to the end of the run), with reference the recursively optimal mean return (the paper's Fig. 8
level "hierarchically optimal"); its CI resamples whole seeds. Per seed (the robustness grids' ``reading:
per_seed`` and the report's table): the cumulative primitive steps until one run's trailing mean first reaches
the level (``rule: first``; ``stays``: from when it stays there to the end of the run); a run that never meets
it is censored at its length (a lower bound).
"""

from __future__ import annotations

import functools
import json
import weakref

import numpy as np
import pandas as pd

from ...tidy import present
from .. import declared

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml
EXPERIMENT = "taxi_maxq"
LABELS = {
    "flat_q": "flat Q-learning",
    "maxq_q": "MAXQ-Q, no abstraction",
    "maxq_q_abs": "MAXQ-Q, abstraction",
    "maxq_q_abs_greedy": "MAXQ-Q, abstraction + greedy execution",
}
MAXQ_NODES = ("root", "get", "put", "navigate")


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
# training
# ----------------------------------------------------------------------------------------------


def _agent_params(algo: str, params: dict) -> dict:
    from ...algos.boltzmann import check_rate, check_temperature

    p = params[algo]
    check_rate(f"{algo}.alpha", p["alpha"])
    floor = float(params["temperature_floor"])
    if algo == "flat_q":
        check_temperature(f"{algo}", p["temperature"], p["cooling"], floor)
    else:
        for node in MAXQ_NODES:
            check_temperature(f"{algo}.cooling.{node}", p["temperature"], p["cooling"][node], floor)
    return p


def final_values(algo: str, result: dict, env, model) -> dict:
    """Exact mean returns of the final greedy policies of one run (see module doc)."""
    from ...algos import maxq_q
    from .oracle import evaluate_flat, hierarchy_models, mean_over_starts

    if algo == "flat_q":
        Q = result["Q"]
        v = mean_over_starts(model, evaluate_flat(model, np.argmax(Q, axis=1)))
        return {"final_policy_return": v, "final_hierarchical_return": np.nan, "final_hg_return": np.nan}
    tables = result["tables"]
    G = tables.greedy_slots()
    hier = hierarchy_models(env, model, choose=lambda node, t, s: G[node, t, s]).mean_return(model)
    hg_policy = np.array([maxq_q.hg_action(s, *tables.args) for s in range(500)])
    hg = mean_over_starts(model, evaluate_flat(model, hg_policy))
    return {"final_policy_return": hg if algo == "maxq_q_abs_greedy" else hier,
            "final_hierarchical_return": hier, "final_hg_return": hg}


def _run_one(algo: str, env, params: dict, seed: int) -> dict:
    from ...algos import maxq_q, taxi_flat_q
    from ...envs.taxi import step_args

    p = _agent_params(algo, params)
    n_steps = int(params["n_steps"])
    cap = int(params["max_episode_steps"])
    floor = float(params["temperature_floor"])
    gamma = float(params["gamma"])
    if algo == "flat_q":
        steps, rets, succ, Q = taxi_flat_q.run(*step_args(env), env.start_states, n_steps, n_steps + 1, cap,
                                               float(p["alpha"]), gamma, float(p["init"]),
                                               float(p["temperature"]), float(p["cooling"]), floor, seed)
        return {"steps": steps, "return": rets, "success": succ, "decisions": steps.copy(), "Q": Q}
    rates = [float(p["cooling"][n]) for n in MAXQ_NODES]
    return maxq_q.train(env, n_steps, abstract=algo != "maxq_q", alpha=float(p["alpha"]), init=float(p["init"]),
                        t0=float(p["temperature"]), cooling=rates, t_floor=floor, gamma=gamma,
                        greedy_l0=int(p.get("greedy_l0", 0)), greedy_dl=int(p.get("greedy_dl", 0)),
                        max_episode_steps=cap, seed=seed)


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    if algo not in ALGOS:
        raise KeyError(f"{EXPERIMENT} has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    frames = []
    for block, variant in enumerate(params["variants"]):
        key = _env_key(variant, params)
        env, model = _env(key)
        orc = _oracle(key)
        run_seed = int(np.random.SeedSequence([int(seed), block]).generate_state(1)[0])
        res = _run_one(algo, env, params, run_seed)
        fin = final_values(algo, res, env, model)
        n = len(res["steps"])
        frames.append(pd.DataFrame({
            "env": env.name,
            "variant": variant,
            "episode": np.arange(1, n + 1, dtype=np.int64),
            "steps": res["steps"].astype(np.int64),
            "cum_steps": np.cumsum(res["steps"]).astype(np.int64),
            "return": res["return"].astype(np.float64),
            "success": res["success"].astype(bool),
            "decisions": res["decisions"].astype(np.int64),
            "optimal_return": orc["optimal"],
            "recursive_optimal_return": orc["recursive_optimal"],
            "random_return": orc["random"],
            **fin,
        }))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------------------------
# analysis
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
                                       int(crit["window"]), crit.get("rule", "first"))
        rows.append({"algo": algo, "seed": int(seed), "variant": variant, "stc": stc, "censored": cens,
                     "reference": ref})
    return pd.DataFrame(rows, columns=["algo", "seed", "variant", "stc", "censored", "reference"])


def _mean_curve_words(crit: dict) -> str:
    when = ("stays at or above it to the end of the run" if crit.get("rule", "first") == "stays" else
            f"holds it for {int(crit.get('hold', 0))} primitive steps")
    return (f"each seed's trailing {crit['window']}-trial mean return read every {int(crit.get('curve_step', 500))} "
            f"primitive steps, mean over seeds; first reaches the "
            f"{ {'recursive_optimal': 'recursively optimal', 'optimal': 'optimal'}[crit['reference']]} mean return "
            f"- {crit['tolerance']} and {when}")


def _criterion_words(crit: dict) -> str:
    ref = {"recursive_optimal": "the recursively optimal mean return", "optimal": "the optimal mean return"}
    when = "first reaches" if crit.get("rule", "first") == "first" else "stays (to the end of the run) at or above"
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
    xs = grid(int(params["n_steps"]), int(crit.get("curve_step", 500)))
    level = reference_return(table, variant, crit["reference"]) - float(crit["tolerance"])
    if not np.isfinite(level):
        return {}
    k = Criterion(level=level, xs=xs, rule=crit.get("rule", "first"), hold=int(crit.get("hold", 0)))
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


# ----------------------------------------------------------------------------------------------
# figures and report
# ----------------------------------------------------------------------------------------------


def curve_frame(table: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Per (algo, seed, variant) on a grid of primitive-step counts: the mean return of the last
    ``figure_window`` episodes finished by then (the paper's "mean reward per trial")."""
    grid = np.linspace(0, int(params["n_steps"]), int(params["figure_points"]) + 1)[1:]
    w = int(params["figure_window"])
    rows = []
    for (algo, seed, variant), g in table.groupby(["algo", "seed", "variant"], sort=True):
        cum = g["cum_steps"].to_numpy()
        c = np.cumsum(np.r_[0.0, g["return"].to_numpy()])
        n = np.searchsorted(cum, grid, side="right")  # episodes finished by each grid point
        lo = np.maximum(n - w, 0)
        val = np.where(n > 0, (c[n] - c[lo]) / np.maximum(n - lo, 1), np.nan)
        rows.append(pd.DataFrame({"algo": algo, "seed": seed, "variant": variant, "x": grid, "value": val}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["algo", "seed", "variant", "x", "value"])


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    variants = present(table, params["variants"], "variant")
    algos = present(table, ALGOS)
    labels = {a: LABELS[a] for a in algos}
    cf = curve_frame(table, params).dropna(subset=["value"])
    fig, axes = plt.subplots(2, max(1, len(variants)), figsize=(6.5 * max(1, len(variants)), 9.5), squeeze=False)
    fig.subplots_adjust(hspace=0.4)
    for j, v in enumerate(variants):
        sub = cf[cf["variant"] == v]
        tv = table[table["variant"] == v]
        opt = float(tv["optimal_return"].iloc[0])
        rec = float(tv["recursive_optimal_return"].iloc[0])
        cross = mean_curve_crossings(table, params, v)
        for i, ax in enumerate(axes[:, j]):
            # top: IQM over seeds (robust to single slow seeds); close-up: the mean over seeds, the paper's
            # reading, with each agent's crossing of the criterion level (the speed claims' quantity)
            curve_iqm_ci(ax, sub, "x", "value", hue="algo", order=list(ALGOS), labels=labels, reps=200,
                         statistic="iqm" if i == 0 else "mean")
            ax.axhline(opt, color="k", ls="--", lw=1, label=f"optimal (oracle) {opt:.2f}")
            ax.axhline(rec, color="k", ls=":", lw=1, label=f"recursively optimal (oracle) {rec:.2f}")
            ax.set_xlabel("primitive actions")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k"))
            ax.set_ylabel(f"mean reward per trial (last {params['figure_window']} trials)")
            if i == 0:
                ax.set_yscale("symlog", linthresh=10)
                ax.set_title(f"Taxi, {v}: IQM over seeds, 95% CI")
            else:
                ax.set_ylim(rec - 15, opt + 3)
                ax.axhline(rec - float(params["criterion"]["tolerance"]), color="0.5", ls="-", lw=0.6,
                           label="criterion level")
                for k, a in enumerate(ALGOS):
                    if np.isfinite(cross.get(a, np.inf)):
                        ax.axvline(cross[a], color=f"C{k}", ls="--", lw=0.8)
                ax.set_title(f"close-up ({v}): mean over seeds, 95% CI\ndashed: where the mean curve reaches the "
                             f"criterion level", fontsize=9)
            ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("MAXQ-Q vs flat Q-learning (Dietterich 2000, Fig. 7 / 8 setup)")
    savefig(fig, outdir / f"{EXPERIMENT}_learning_curves.png")

    rows = []
    for agent in [a for a in algos if a != "flat_q"]:
        vals, info = speedup_samples(table, params, "flat_q", agent, variants)
        for j, v in enumerate(info["variants"]):
            rows += [{"agent": LABELS[agent].replace(", ", ",\n"), "variant": v, "ratio": x} for x in vals[:, j]]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.axhspan(2 / np.sqrt(2), 2 * np.sqrt(2), color="C2", alpha=0.15,
               label="paper (abstraction): 'roughly twice' (2 within a factor sqrt(2))")
    ax.axhline(1, color="k", lw=0.8)
    if rows:
        df = pd.DataFrame(rows)
        order = list(dict.fromkeys(df["agent"]))
        hue_order = list(dict.fromkeys(df["variant"]))
        sns.boxplot(data=df, x="agent", y="ratio", hue="variant", ax=ax, showfliers=False, order=order,
                    hue_order=hue_order)
        sns.stripplot(data=df, x="agent", y="ratio", hue="variant", ax=ax, dodge=True, size=3, palette="dark:k",
                      alpha=0.5, legend=False, order=order, hue_order=hue_order)
        # the paper's reading: ratio of the crossings of the curves averaged over seeds (diamonds)
        width = 0.8 / max(1, len(hue_order))
        labelled = False
        ax.set_yscale("log")
        for j, v in enumerate(hue_order):
            cross = mean_curve_crossings(table, params, v)
            for i, lab in enumerate(order):
                agent = next(a for a in algos if LABELS[a].replace(", ", ",\n") == lab)
                x = i - 0.4 + width * (j + 0.5)
                with np.errstate(divide="ignore", invalid="ignore"):
                    r = np.float64(cross.get("flat_q", np.inf)) / np.float64(cross.get(agent, np.inf))
                if np.isfinite(r) and r > 0:
                    ax.plot(x, r, marker="D", color="crimson", ms=8, mec="white", ls="none",
                            label=None if labelled else "mean curves (the speed claims)")
                    labelled = True
                else:
                    what = {True: "flat Q", False: "agent"}[bool(np.isinf(r))] if not np.isnan(r) else "neither"
                    ax.annotate(f"mean curve:\n{what} never\nreaches", (x, 0.3), xycoords=("data", "axes fraction"),
                                ha="center", va="bottom", fontsize=7, color="crimson")
        ax.legend(fontsize=7)
    ax.set_xlabel("")
    ax.set_ylabel("steps to criterion, flat Q / agent")
    ax.set_title("Speed-up over flat Q-learning (>1: faster than flat): per seed (boxes), of the mean curves "
                 "(diamonds)", fontsize=9)
    savefig(fig, outdir / f"{EXPERIMENT}_speedup.png")


def value_counts() -> dict:
    """Stored values of each representation, from the agents' own table layouts."""
    from ...algos.maxq_q import table_sizes

    c0, v0 = table_sizes(False)
    c1, v1 = table_sizes(True)
    return {"flat_q": 500 * 6, "maxq_q": int(c0.sum() + v0.sum()), "maxq_q_abs": int(c1.sum() + v1.sum())}


def report_section(table: pd.DataFrame, params: dict) -> str:
    from ...stats import iqm

    crit = params["criterion"]
    counts = value_counts()
    lines = [f"Taxi (Dietterich 2000, Sec. 7.1), {params['n_steps']} primitive steps per run and variant, "
             f"{table['seed'].nunique()} seeds. Criterion: {_criterion_words(crit)}.",
             "",
             f"Stored values (from the agents' tables): flat Q {counts['flat_q']}, MAXQ without abstraction "
             f"{counts['maxq_q']}, with abstraction {counts['maxq_q_abs']} (the paper: 3,000 / 14,000 / 632).", ""]
    algos = present(table, ALGOS)
    ct = criterion_table(table, params)
    lines += ["| variant | optimal | recursively optimal | random | " + " | ".join(
        f"{LABELS[a]}: steps to criterion / final exact return" for a in algos) + " |",
        "| --- | --- | --- | --- |" + " --- |" * len(algos)]
    for v in present(table, params["variants"], "variant"):
        tv = table[table["variant"] == v]
        cells = []
        for a in algos:
            s = ct[(ct["variant"] == v) & (ct["algo"] == a)]
            fin = tv[tv["algo"] == a].groupby("seed")["final_policy_return"].first().to_numpy()
            fin = fin[np.isfinite(fin)]
            cells.append("–" if s.empty else
                         f"{float(iqm(s['stc'].to_numpy()[:, None])):.0f} ({int(s['censored'].sum())} cens.) / "
                         f"{float(np.median(fin)) if fin.size else float('nan'):.3f}")
        lines.append(f"| {v} | {tv['optimal_return'].iloc[0]:.3f} | {tv['recursive_optimal_return'].iloc[0]:.3f} "
                     f"| {tv['random_return'].iloc[0]:.1f} | " + " | ".join(cells) + " |")
    lines += ["", "Cells: IQM over seeds of primitive steps to criterion (censored runs) / median over seeds of "
              "the exact mean return of the final greedy policy. Oracle columns: exact mean return per episode "
              "over the start distribution (value iteration; recursively optimal: the task graph solved "
              "bottom-up as SMDPs and evaluated on the real MDP).", ""]
    for agent in [a for a in algos if a != "flat_q"]:
        vals, info = speedup_samples(table, params, "flat_q", agent, list(params["variants"]))
        if vals.size:
            per = ", ".join(f"{v}: {float(iqm(vals[:, [j]])):.2f}x" for j, v in enumerate(info["variants"]))
            lines.append(f"- per-seed speed-up of {LABELS[agent]} over flat Q-learning (IQM of per-seed ratios, "
                         f"per variant): {per}")
    lines += ["", "The paper's reading (the speed claims): primitive steps at which the learning curve averaged "
              f"over seeds reaches the level ({_mean_curve_words(crit)}):", ""]
    lines += ["| variant | " + " | ".join(LABELS[a] for a in algos) + " | flat Q / " + " | flat Q / ".join(
        LABELS[a] for a in algos if a != "flat_q") + " |",
        "| --- |" + " --- |" * (2 * len(algos) - (1 if "flat_q" in algos else 0))]
    for v in present(table, params["variants"], "variant"):
        cross = mean_curve_crossings(table, params, v)
        fmt = lambda x: "never" if not np.isfinite(x) else f"{x:,.0f}"  # noqa: E731
        ratios = []
        for a in algos:
            if a == "flat_q":
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.float64(cross.get("flat_q", np.inf)) / np.float64(cross.get(a, np.inf))
            ratios.append("undefined (neither reaches)" if np.isnan(r) else "inf (flat Q never reaches)"
                          if np.isinf(r) else "0 (agent never reaches)" if r == 0 else f"{r:.2f}x")
        lines.append(f"| {v} | " + " | ".join(fmt(cross.get(a, np.inf)) for a in algos) + " | "
                     + " | ".join(ratios) + " |")
    lines += ["", "What the paper says and what it leaves open:",
              "- Sec. 7.1 text: MAXQ-Q with abstraction attains the hierarchically optimal policy after about "
              "40,000 primitive steps, flat Q 'roughly twice as long'; without abstraction MAXQ-Q is slower than "
              "flat Q (the curves cross); greedy execution reaches optimal performance. No other numbers: the "
              "x-axis range of Figs. 7/8 could not be read (images), so the training length is our choice.",
              "- Our reading of open details (config CHOICEs): the delivering Putdown is worth -1 + 20 = +19 ('an "
              "additional reward of +20'); a Putdown away from the destination is illegal (gymnasium's Taxi drops "
              "the passenger at another landmark instead, and pays +20 in total for delivery); the fickle "
              "passenger's new destination is uniform over the other three landmarks; start states have the "
              "destination distinct from the source (300 states, as gymnasium).",
              "- Recursively optimal vs optimal: with the fickle passenger the hierarchy's Navigate(destination) "
              "runs to the old destination before Put can react, so the recursively optimal return is well below "
              "the optimum; without the fickle passenger they coincide (oracle columns)."]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    from ...config import experiment_params, load_config
    from .. import REGISTRY
    from .oracle import oracle

    print(json.dumps(oracle(experiment_params(load_config(REGISTRY), EXPERIMENT))))
