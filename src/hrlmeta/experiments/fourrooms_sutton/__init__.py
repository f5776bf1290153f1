"""Experiment ``fourrooms_sutton``: options vs flat Q-learning in the rooms gridworld, faithful to Sutton,
Precup & Singh (1999), "Between MDPs and semi-MDPs", Artificial Intelligence 112, Section 3.2 / Fig. 5
(SMDP Q-learning with the option sets A, H and A u H, goals G1 and G2) and Section 6 (intra-option
Q-learning).

One training run (``train(algo, seed, params)``) plays a *goal sequence*: the first goal of
``main_goals`` (G1, phase ``first``), then every further goal (G2, then ``reuse_goals``; phase
``switch``). At each goal the agent's value table is re-initialised to 0 while the options themselves
(policies, initiation sets, terminations) are reused unchanged -- option values are goal-specific, the
options are not. The flat agent learns every goal from scratch as well. ``reuse_goals`` are played only
by the algorithms in ``reuse_algos``.

Rows: one per episode, with ``goal``, ``phase``, ``option_set``, ``alpha``, ``ended_by`` (``goal`` or
``step_cap``) and ``greedy_steps``: at snapshot episodes (``greedy_eval``), the exact expected number of
primitive steps from the start of the greedy policy of the current value table (ties uniform), from the
oracle's absorbing-chain solve; NaN at other episodes.

Episodes-to-criterion (``criterion``; see :func:`episodes_to_criterion`): with ``measure: behaviour``,
the first episode from which the trailing moving average (``window`` episodes) of steps per episode stays
at or below ``(1 + tolerance) * optimal`` until the end of the goal's block, where ``optimal`` is the
oracle's optimal expected steps over primitive actions; with ``measure: greedy`` the same rule on the
snapshots' ``greedy_steps``. A block that does not meet the criterion at its last episode is *censored*:
its value is the block length (a lower bound on the true value), and every claim note reports how many
were censored.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd

from ...tidy import present
from .. import declared

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml
EXPERIMENT = "fourrooms_sutton"
LABELS = {
    "flat_q": "Q-learning, primitives A",
    "smdp_q_options": "SMDP Q-learning, options H",
    "smdp_q_mixed": "SMDP Q-learning, A ∪ H",
    "intra_option_q": "intra-option Q-learning",
}


# ----------------------------------------------------------------------------------------------
# environment, options and oracle (cached per process)
# ----------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _env(success_prob: float):
    from ...envs.fourrooms import make_fourrooms, option_set

    env = make_fourrooms(success_prob)
    return env, {k: option_set(env, k) for k in ("A", "H", "AH")}


@functools.lru_cache(maxsize=64)
def _task(success_prob: float, gamma: float, cell: tuple, start: tuple, set_name: str):
    """(goal state, start state, oracle optimum over primitives, models of the option set)."""
    from ... import oracle as orc

    env, sets = _env(success_prob)
    goal, s0 = env.state(cell), env.state(start)
    if goal == s0:
        raise ValueError(f"goal cell {cell} is the start cell")
    O = sets[set_name]
    models = orc.option_models(env.P, O.act, O.beta, goal, gamma)
    if set_name == "A":
        prim = models
    else:
        A = sets["A"]
        prim = orc.option_models(env.P, A.act, A.beta, goal, gamma)
    V, Q = orc.smdp_values(prim)
    optimal = float(orc.expected_steps(prim, orc.greedy(Q))[s0])
    Vo, Qo = orc.smdp_values(models)
    own = float(orc.expected_steps(models, orc.greedy(Qo))[s0])
    return goal, s0, optimal, own, models


def _option_set_of(algo: str, params: dict) -> str:
    return {"flat_q": "A", "smdp_q_options": "H", "smdp_q_mixed": "AH",
            "intra_option_q": params["intra_option_set"]}[algo]


def _alpha(params: dict, algo: str, goal: str) -> float:
    for exc in params.get("alpha_exceptions", []):
        if exc["algo"] == algo and exc["goal"] == goal:
            return float(exc["alpha"])
    return float(params["alpha"])


def goal_sequence(params: dict, algo: str) -> list[tuple[str, str]]:
    """[(goal name, phase)] a run of ``algo`` plays."""
    goals = list(params["main_goals"])
    if algo in params.get("reuse_algos", []):
        goals += [g for g in params.get("reuse_goals", []) if g not in goals]
    for g in goals:
        if g not in params["goals"]:
            raise KeyError(f"goal {g!r} is not defined under params.goals ({sorted(params['goals'])})")
    return [(g, "first" if i == 0 else "switch") for i, g in enumerate(goals)]


def snapshot_episodes(n_episodes: int, greedy_eval: dict) -> np.ndarray:
    """Episodes (1-based) after which the greedy policy is evaluated: every episode up to ``dense``,
    then ``n_log`` log-spaced ones up to the last episode."""
    dense = min(int(greedy_eval["dense"]), n_episodes)
    geo = np.geomspace(max(dense, 1), n_episodes, int(greedy_eval["n_log"]))
    return np.unique(np.r_[np.arange(1, dense + 1), np.round(geo).astype(np.int64), n_episodes])


# ----------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    from ... import oracle as orc
    from ...algos import flat_q, intra_option_q, smdp_q

    if algo not in ALGOS:
        raise KeyError(f"{EXPERIMENT} has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    sp, gamma = float(params["success_prob"]), float(params["gamma"])
    env, sets = _env(sp)
    set_name = _option_set_of(algo, params)
    options = sets[set_name]
    n_ep = int(params["n_episodes"])
    snaps = snapshot_episodes(n_ep, params["greedy_eval"])
    start = tuple(params["start"])
    frames = []
    for block, (gname, phase) in enumerate(goal_sequence(params, algo)):
        cell = tuple(params["goals"][gname])
        goal, s0, optimal, own, models = _task(sp, gamma, cell, start, set_name)
        alpha = _alpha(params, algo, gname)
        run_seed = int(np.random.SeedSequence([int(seed), block]).generate_state(1)[0])
        common = dict(start=s0, goal=goal, n_episodes=n_ep, alpha=alpha, gamma=gamma,
                      epsilon=float(params["epsilon"]), max_steps=int(params["max_steps"]), seed=run_seed,
                      snapshots=snaps)
        if algo == "flat_q":
            res = flat_q.train(env.next_k, **common)
        elif algo == "intra_option_q":
            res = intra_option_q.train(env.next_k, options, **common)
        else:
            res = smdp_q.train(env.next_k, options, **common)
        greedy = np.full(n_ep, np.nan)
        for ep, Q in zip(res["snapshots"], res["Q_snapshots"]):
            greedy[ep - 1] = orc.expected_steps(models, orc.greedy_from_table(Q, models.init))[s0]
        reached = res["reached"]
        frames.append(pd.DataFrame({
            "env": env.name,
            "goal": gname,
            "phase": phase,
            "block": block,
            "goal_row": int(cell[0]),
            "goal_col": int(cell[1]),
            "option_set": set_name,
            "alpha": alpha,
            "episode": np.arange(1, n_ep + 1, dtype=np.int64),
            "steps": res["steps"].astype(np.int64),
            "return": reached.astype(np.float64),  # +1 on reaching the goal, 0 elsewhere
            "success": reached.astype(bool),
            "decisions": res["decisions"].astype(np.int64),
            "ended_by": np.where(reached, "goal", "step_cap"),
            "greedy_steps": greedy,
            "optimal_steps": optimal,
            "option_set_optimal_steps": own,
        }))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------------------------
# analysis
# ----------------------------------------------------------------------------------------------


def criterion_matrix(values, episodes, reference, tolerance: float, window: int = 1,
                     full_window: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`episodes_to_criterion` for many blocks at once: ``values`` (blocks, entries), ``episodes``
    (entries,), ``reference`` (blocks,). Returns (episode, censored) arrays, one per block."""
    v = np.asarray(values, dtype=float)
    episodes = np.asarray(episodes)
    n = v.shape[1]
    window = int(window)
    if window > 1:
        c = np.concatenate([np.zeros((v.shape[0], 1)), np.cumsum(v, axis=1)], axis=1)
        k = np.arange(1, n + 1)
        lo = np.maximum(k - window, 0)
        v = (c[:, k] - c[:, lo]) / (k - lo)
    ok = v <= (1.0 + tolerance) * np.asarray(reference, dtype=float)[:, None]
    if full_window and window > 1:
        ok[:, : window - 1] = False  # the trailing mean is undefined before a full window
    censored = ~ok[:, -1]
    bad = ~ok
    any_bad = bad.any(axis=1)
    last_bad = n - 1 - np.argmax(bad[:, ::-1], axis=1)
    first_ok = np.where(any_bad, last_bad + 1, 0)
    etc = np.where(censored, episodes[-1], episodes[np.minimum(first_ok, n - 1)])
    return etc.astype(np.int64), censored


def episodes_to_criterion(episodes, values, reference: float, tolerance: float,
                          window: int = 1, full_window: bool = False) -> tuple[int, bool]:
    """First episode from which the trailing mean of ``values`` over ``window`` entries stays
    ``<= (1 + tolerance) * reference`` to the end. Returns (episode, censored); a censored result (criterion
    not met at the last entry) is the last episode, a lower bound. With ``full_window`` the trailing mean
    is defined only from the ``window``-th entry on (the criterion cannot be met earlier); otherwise the
    first ``window - 1`` entries average the entries so far (partial windows)."""
    e, c = criterion_matrix(np.asarray(values, dtype=float)[None], episodes, [reference], tolerance,
                            window, full_window)
    return int(e[0]), bool(c[0])


_BLOCKS: dict[int, tuple] = {}


def _blocks(table: pd.DataFrame) -> dict | None:
    """The table as one matrix row per (algo, seed, goal) block (cached per table object): steps and
    greedy_steps (blocks x episodes), the blocks' keys and references. None when blocks differ in length."""
    hit = _BLOCKS.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    t = table.sort_values(["algo", "seed", "goal", "episode"], kind="stable")
    sizes = t.groupby(["algo", "seed", "goal"], sort=True).size()
    out = None
    if len(sizes) and sizes.nunique() == 1:
        n_ep = int(sizes.iloc[0])
        ep = t["episode"].to_numpy().reshape(len(sizes), n_ep)
        if (ep == ep[0]).all():
            head = t.iloc[::n_ep]
            out = {
                "keys": pd.DataFrame({"algo": head["algo"].to_numpy(), "seed": head["seed"].to_numpy().astype(int),
                                      "goal": head["goal"].to_numpy(), "phase": head["phase"].to_numpy()}),
                "episodes": ep[0],
                "steps": t["steps"].to_numpy(dtype=float).reshape(len(sizes), n_ep),
                # tables of other experiments measured with this criterion may lack the greedy snapshots
                # or the option-set optimum: None, and the criterion that needs them says so
                "greedy": (t["greedy_steps"].to_numpy(dtype=float).reshape(len(sizes), n_ep)
                           if "greedy_steps" in t.columns else None),
                "primitive": head["optimal_steps"].to_numpy(dtype=float),
                "own": (head["option_set_optimal_steps"].to_numpy(dtype=float)
                        if "option_set_optimal_steps" in t.columns else None),
            }
    if len(_BLOCKS) >= 4:
        _BLOCKS.clear()
    _BLOCKS[id(table)] = (table, out)
    return out


def criterion_table(table: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Episodes-to-criterion per (algo, seed, goal): columns algo, seed, goal, phase, etc, censored, reference.
    Vectorised over blocks (and cached per table), so varying the criterion costs milliseconds."""
    crit = params["criterion"]
    window, full = int(crit["window"]), bool(crit.get("full_window", False))
    b = _blocks(table)
    if b is None:  # blocks of unequal length: one at a time
        rows = []
        for (algo, seed, goal), g in table.groupby(["algo", "seed", "goal"], sort=True):
            g = g.sort_values("episode")
            ref = float(g["optimal_steps"].iloc[0] if crit["reference"] == "primitive"
                        else g["option_set_optimal_steps"].iloc[0])
            if crit["measure"] == "greedy":
                s = g.dropna(subset=["greedy_steps"])
                e, cens = episodes_to_criterion(s["episode"], s["greedy_steps"], ref, crit["tolerance"])
            else:
                e, cens = episodes_to_criterion(g["episode"], g["steps"], ref, crit["tolerance"], window, full)
            rows.append({"algo": algo, "seed": int(seed), "goal": goal, "phase": g["phase"].iloc[0],
                         "etc": e, "censored": cens, "reference": ref})
        return pd.DataFrame(rows, columns=["algo", "seed", "goal", "phase", "etc", "censored", "reference"])
    ref = b["primitive"] if crit["reference"] == "primitive" else b["own"]
    need = {"greedy_steps": crit["measure"] == "greedy" and b["greedy"] is None,
            "option_set_optimal_steps": ref is None}
    if any(need.values()):
        raise ValueError(f"criterion {crit}: the table has no {[k for k, v in need.items() if v]} column")
    if crit["measure"] == "greedy":
        cols = ~np.isnan(b["greedy"]).all(axis=0)
        vals, eps = b["greedy"][:, cols], b["episodes"][cols]
        if np.isnan(vals).any():  # snapshots differ between blocks: fall back
            _BLOCKS[id(table)] = (table, None)
            return criterion_table(table, params)
        etc, cens = criterion_matrix(vals, eps, ref, crit["tolerance"])
    else:
        etc, cens = criterion_matrix(b["steps"], b["episodes"], ref, crit["tolerance"], window, full)
    return b["keys"].assign(etc=etc, censored=cens, reference=ref)


def _criterion_words(params: dict) -> str:
    c = params["criterion"]
    ref = "the optimal expected steps over primitive actions" if c["reference"] == "primitive" else \
        "the optimum of the agent's own option set"
    if c["measure"] == "greedy":
        what = "the exact expected steps of the greedy policy (at snapshot episodes)"
    else:
        part = "full windows only, from episode {}".format(c["window"]) if c.get("full_window") else \
            "partial windows before episode {}".format(c["window"])
        what = f"the trailing {c['window']}-episode mean of steps per episode ({part})" if c["window"] > 1 else \
            "the steps of each episode"
    return f"first episode from which {what} stays <= {1 + c['tolerance']:.2f} x {ref}"


def speedup_samples(table: pd.DataFrame, params: dict, baseline: str, agent: str, goals) -> tuple:
    """Per-seed ratio etc(baseline) / etc(agent), shaped (seeds, goals); plus the censoring counts."""
    ct = criterion_table(table, params)
    ct = ct[ct["algo"].isin([baseline, agent]) & ct["goal"].isin(goals)]
    if ct.empty:
        return np.empty((0, len(goals))), {}
    piv = ct.pivot_table(index="seed", columns=["algo", "goal"], values="etc")
    cens = ct.groupby(["algo", "goal"])["censored"].sum().to_dict()
    cols = [g for g in goals if (baseline, g) in piv.columns and (agent, g) in piv.columns]
    vals = np.column_stack([piv[(baseline, g)].to_numpy() / piv[(agent, g)].to_numpy() for g in cols]) \
        if cols else np.empty((len(piv), 0))
    vals = vals[~np.isnan(vals).any(axis=1)] if vals.size else vals
    return vals, {"censored": {f"{a}/{g}": int(n) for (a, g), n in cens.items()}, "goals": cols}


def oracle(params: dict) -> dict:
    from ...oracle import fourrooms_oracle

    goals = {g: tuple(params["goals"][g]) for g in params["main_goals"]}
    for g in params.get("reuse_goals", []):
        goals[g] = tuple(params["goals"][g])
    res = fourrooms_oracle(goals, gamma=float(params["gamma"]), success_prob=float(params["success_prob"]))
    return {"experiment": EXPERIMENT, **res, "start": list(params["start"]),
            "goals": {g: list(c) for g, c in goals.items()}}


# ----------------------------------------------------------------------------------------------
# figures and report
# ----------------------------------------------------------------------------------------------


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    goals = list(params["main_goals"])
    algos = present(table, ALGOS)
    labels = {a: LABELS[a] for a in algos}

    # learning curves: steps per episode, one panel per main goal
    fig, axes = plt.subplots(1, len(goals), figsize=(6 * len(goals), 4.5), squeeze=False)
    for ax, g in zip(axes[0], goals):
        sub = table[table["goal"] == g]
        curve_iqm_ci(ax, sub, "episode", "steps", hue="algo", order=list(ALGOS), labels=labels,
                     smooth=int(params["figure_smooth"]), reps=200)
        if not sub.empty:
            opt = float(sub["optimal_steps"].iloc[0])
            ax.axhline(opt, color="k", ls="--", lw=1, label=f"optimum (oracle) {opt:.1f}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("episode")
        ax.set_ylabel("primitive steps per episode")
        cell = tuple(params["goals"][g])
        ax.set_title(f"goal {g} {cell}: IQM over seeds, 95% CI")
        ax.legend(fontsize=8)
    fig.suptitle("Rooms gridworld (Sutton, Precup & Singh 1999, Fig. 5 setup)")
    savefig(fig, outdir / f"{EXPERIMENT}_learning_curves.png")

    # speed-up distribution per options agent and goal
    import seaborn as sns

    rows = []
    for agent in [a for a in algos if a != "flat_q"]:
        vals, info = speedup_samples(table, params, "flat_q", agent, goals)
        for j, g in enumerate(info.get("goals", [])):
            for v in vals[:, j]:
                rows.append({"agent": LABELS[agent], "goal": g, "speedup": v})
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.axhspan(3, 5, color="C2", alpha=0.15, label="claimed 3-5x")
    ax.axhline(1, color="k", lw=0.8)
    if rows:
        df = pd.DataFrame(rows)
        sns.boxplot(data=df, x="agent", y="speedup", hue="goal", ax=ax, showfliers=False)
        sns.stripplot(data=df, x="agent", y="speedup", hue="goal", ax=ax, dodge=True, size=3, palette="dark:k",
                      alpha=0.5, legend=False)
        ax.set_yscale("log")
    ax.set_xlabel("")
    ax.set_ylabel("episodes-to-criterion, flat / options agent")
    ax.set_title("Per-seed speed-up over flat Q-learning")
    ax.legend(fontsize=8)
    savefig(fig, outdir / f"{EXPERIMENT}_speedup.png")

    # reuse: episodes-to-criterion per new goal, flat vs the agents that play the reuse goals
    fig, ax = plt.subplots(figsize=(9, 4.5))
    switch = table[table["phase"] == "switch"]
    if not switch.empty:
        ct = criterion_table(switch, params)
        ct["agent"] = ct["algo"].map(LABELS)
        order = [g for g in dict.fromkeys(switch.sort_values("block")["goal"])]
        sns.boxplot(data=ct, x="goal", y="etc", hue="agent", order=order, ax=ax, showfliers=False)
        ax.set_yscale("log")
    ax.axhline(int(params["n_episodes"]), color="k", ls=":", lw=1, label="block length (censoring)")
    ax.set_xlabel("new goal (options unchanged, values re-learned)")
    ax.set_ylabel("episodes-to-criterion")
    ax.set_title("Option reuse across goal positions")
    ax.legend(fontsize=8)
    savefig(fig, outdir / f"{EXPERIMENT}_reuse.png")


def floor_effect_lines(table: pd.DataFrame, params: dict) -> list[str]:
    """How often each agent meets its criterion at its first possible episode (episode 1 with partial
    windows, episode ``window`` with full ones) on the main goals, under the config's criterion and with
    full 20- and 50-episode windows: the floor that bounds the speed-up ratios."""
    crit = params["criterion"]
    if crit["measure"] != "behaviour":
        return []
    goals = list(params["main_goals"])
    variants = [("config", crit)] + [(f"full {w}-episode window", {**crit, "window": w, "full_window": True})
                                      for w in (20, 50) if (w, True) != (crit["window"], crit.get("full_window"))]
    algos = present(table, ALGOS)
    head = ["| criterion | first possible episode | " + " | ".join(LABELS[a] for a in algos) + " |",
            "| --- | --- |" + " --- |" * len(algos)]
    rows = []
    for name, c in variants:
        first = int(c["window"]) if c.get("full_window") else 1
        ct = criterion_table(table, {**params, "criterion": c})
        ct = ct[ct["goal"].isin(goals)]
        cells = []
        for a in algos:
            e = ct.loc[ct["algo"] == a, "etc"]
            cells.append("–" if e.empty else f"{(e == first).mean():.0%} (median {e.median():.0f})")
        words = f"{name}: window {c['window']}, {'full' if c.get('full_window') else 'partial'} windows"
        rows.append(f"| {words} | {first} | " + " | ".join(cells) + " |")
    return [f"Floor effect (goals {', '.join(goals)}): share of runs that meet the criterion at the first episode "
            "where it can be met, and the median episodes-to-criterion. With partial windows the trailing mean "
            "of the first n < window episodes counts, so an agent whose first few episodes are short meets the "
            "criterion before a full window exists and the ratio measures mostly the flat agent's time; with "
            "full windows no agent can meet it before episode `window`, and agents that would have met it "
            "earlier all sit at that floor, which pulls the ratio toward 1. Neither is the paper's measure "
            "(Fig. 5 shows curves, not a criterion); the robustness block of each speed-up claim varies both.",
            "", *head, *rows]


def report_section(table: pd.DataFrame, params: dict) -> str:
    from ...stats import iqm

    goals = list(params["main_goals"])
    lines = [f"Rooms gridworld, start {tuple(params['start'])}, {params['n_episodes']} episodes per goal, "
             f"{table['seed'].nunique()} seeds. Criterion: {_criterion_words(params)}.", ""]
    ct = criterion_table(table, params)
    algos = present(table, ALGOS)
    lines += ["| goal | optimal steps (oracle) | " + " | ".join(LABELS[a] for a in algos) + " |",
              "| --- | --- |" + " --- |" * len(algos)]
    for g in dict.fromkeys(table.sort_values("block")["goal"]):
        sub = ct[ct["goal"] == g]
        opt = float(table.loc[table["goal"] == g, "optimal_steps"].iloc[0])
        cells = []
        for a in algos:
            s = sub[sub["algo"] == a]
            cells.append("–" if s.empty else
                         f"{float(iqm(s['etc'].to_numpy()[:, None])):.0f} ({int(s['censored'].sum())} cens.)")
        lines.append(f"| {g} | {opt:.2f} | " + " | ".join(cells) + " |")
    lines += ["", "Cells: IQM episodes-to-criterion over seeds (number of censored runs).", ""]
    for agent in [a for a in algos if a != "flat_q"]:
        vals, _ = speedup_samples(table, params, "flat_q", agent, goals)
        if vals.size:
            per = ", ".join(f"{g}: {float(iqm(vals[:, [j]])):.2f}x" for j, g in enumerate(goals[: vals.shape[1]]))
            lines.append(f"- speed-up of {LABELS[agent]} over flat Q-learning (IQM per goal): {per}")
    lines += ["", *floor_effect_lines(table, params), ""]
    last = table[table["episode"] > 0.9 * table["episode"].max()]
    for g in goals:
        s = last[last["goal"] == g].groupby("algo")["steps"].mean()
        lines.append(f"- {g}, mean steps per episode over the last 10% of episodes: "
                     + ", ".join(f"{LABELS[a]} {s[a]:.1f}" for a in algos if a in s))
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    from ...config import experiment_params, load_config
    from .. import REGISTRY

    print(json.dumps(oracle(experiment_params(load_config(REGISTRY), EXPERIMENT))))

