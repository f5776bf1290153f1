"""Experiment ``fourrooms_discovery``: bottleneck options found by betweenness centrality (Şimşek & Barto
2009, "Skill characterization based on betweenness", NeurIPS 21), the chapter's "Bottleneck States Based"
option discovery ("analyze state transition graph, find must-pass places (e.g., doors between rooms) ...
Betweenness Centrality"), on the rooms gridworld and goals of Sutton, Precup & Singh (1999).

Per seed: a uniformly random walk of ``walk_steps`` steps from the start gives the empirical interaction
graph; its betweenness local maxima (at most ``max_subgoals``, ranked by betweenness) are the subgoals; one
option per subgoal is built from the graph (:mod:`hrlmeta.algos.bottleneck`). Then SMDP Q-learning
(:mod:`hrlmeta.algos.smdp_q`, the learner of ``fourrooms_sutton``) learns each goal of ``main_goals`` from
scratch, over the primitives plus the algorithm's options:

* ``primitives``: A only (flat Q-learning as one-step options);
* ``handmade_options``: A u H, Sutton et al.'s eight hallway options;
* ``bottleneck_options``: A u the discovered options (``graph: empirical``, or ``known`` for the graph of
  the known dynamics -- then every seed gets the same subgoals);
* ``random_subgoal_options``: A u options built the same way to as many subgoals drawn uniformly from the
  states (the control).

Goal sample (``goal_sample``): besides the main goals, the algorithms of ``goal_sample.algos`` learn in-room
goal cells drawn once, with a fixed seed, ``per_room`` from each room (hallways and the start cell excluded;
:func:`goal_sample`). Seed ``s`` learns ``per_seed`` of them, in rotation (goals ``s * per_seed + j`` modulo
their number, :func:`sample_goals_of`), so consecutive seeds spread evenly over the goals. With
``goal_sample.discovery: per_goal`` each (seed, goal) run of the discovered / random-subgoal options builds
its own option set (its own random walk, its own random subgoals), and its learner has its own random stream,
both keyed by (seed, goal index): the runs of different goals are independent, as the stratified bootstrap
that resamples each goal's runs on its own assumes. The main goals' blocks are unchanged by the sample.

Rows: one per episode, with the columns ``fourrooms_sutton``'s criterion code reads (``goal``, ``phase``,
``block``, ``optimal_steps``, ``option_set_optimal_steps``) plus ``goal_set`` (``main`` for the main goals,
``sample`` for the goal sample; ``phase`` is ``first`` / ``switch`` for the main goals, ``sample`` for the
sample), ``goal_row``, ``goal_col``, ``n_options`` and ``subgoals`` (JSON list of the run's subgoal cells
[row, col], best first; ``"[]"`` for primitives / hand-made options).
Episodes-to-criterion, speed-ups and their censoring are computed by ``fourrooms_sutton``'s functions.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd

from ...tidy import present
from .. import declared

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml
EXPERIMENT = "fourrooms_discovery"
LABELS = {
    "primitives": "primitives A",
    "handmade_options": "A ∪ hand-made hallway options",
    "bottleneck_options": "A ∪ bottleneck options (betweenness)",
    "random_subgoal_options": "A ∪ random-subgoal options",
}


def _env(success_prob: float):
    """(rooms gridworld, primitives A, A u H): fourrooms_sutton's cached environment and option sets."""
    from ...shared.fourrooms import env_and_option_sets as sutton_env

    env, sets = sutton_env(success_prob)
    return env, sets["A"], sets["AH"]


@functools.lru_cache(maxsize=2)
def known_graph(success_prob: float):
    """(graph, betweenness) of the known dynamics."""
    from ...algos import bottleneck as B

    env = _env(success_prob)[0]
    G = B.graph_from_dynamics(env.P)
    return G, B.betweenness(G)


def _rng_seed(seed: int, stream: int, run: int | None = None) -> int:
    """A seed for one random stream of a run: (seed, stream) for the seed's own run (the main goals),
    (seed, stream, goal index) for a run on a goal of the goal sample (:func:`sample_goals_of`)."""
    key = [int(seed), int(stream)] + ([] if run is None else [int(run)])
    return int(np.random.SeedSequence(key).generate_state(1)[0])


def goal_sample(params: dict) -> list[tuple[str, tuple[int, int]]]:
    """The goal sample: [(name, (row, col))], ``goal_sample.per_room`` cells drawn without replacement from
    each room's cells (hallways are no room cells; the start cell is left out), with the fixed seed
    ``goal_sample.seed``; rooms in the environment's order, cells row-major within a room. Names ``r{row}c{col}``.
    Empty where the config has no ``goal_sample`` or ``per_room`` is 0."""
    gs = params.get("goal_sample") or {}
    k = int(gs.get("per_room", 0))
    if k <= 0:
        return []
    env = _env(float(params["success_prob"]))[0]
    start = env.state(tuple(params["start"]))
    rng = np.random.default_rng(int(gs["seed"]))
    out = []
    for room in env.rooms:
        pool = np.array(sorted(int(s) for s in room if int(s) != start and int(s) not in env.hallways))
        for s in sorted(int(x) for x in rng.choice(pool, size=min(k, pool.size), replace=False)):
            r, c = (int(v) for v in env.cells[s])
            out.append((f"r{r}c{c}", (r, c)))
    return out


def sample_goals_of(seed: int, params: dict) -> list[tuple[int, str, tuple[int, int]]]:
    """The goals of the goal sample seed ``seed`` learns: [(goal index, name, cell)], ``per_seed`` of them in
    rotation -- indices ``seed * per_seed + j`` modulo the sample's size -- so that ``n`` consecutive seeds
    give every goal ``n * per_seed / len(sample)`` runs where that is whole."""
    goals = goal_sample(params)
    if not goals:
        return []
    k = min(int(params["goal_sample"]["per_seed"]), len(goals))
    return [(i, *goals[i]) for i in ((int(seed) * k + j) % len(goals) for j in range(k))]


def subgoals_for(algo: str, seed: int, params: dict, run: int | None = None):
    """(graph, subgoal states best first) the run of ``algo`` with ``seed`` builds its options from
    (``run``: the goal index of a per-goal discovery, see :func:`sample_goals_of`; None: the seed's own)."""
    from ...algos import bottleneck as B

    sp = float(params["success_prob"])
    env = _env(sp)[0]
    d = params["discovery"]
    if algo == "bottleneck_options":
        if d["graph"] == "known":
            G, bc = known_graph(sp)
        else:
            tr = B.random_walk_transitions(env.next_k, env.state(tuple(params["start"])), int(d["walk_steps"]),
                                           _rng_seed(seed, 1, run))
            G = B.graph_from_transitions(tr, env.n_states)
            bc = B.betweenness(G)
        return G, B.local_maxima(G, bc, int(d["radius"]))[: int(d["max_subgoals"])]
    if algo == "random_subgoal_options":
        G, _ = known_graph(sp)
        k = int(d["max_subgoals"])
        if d["random_count"] == "match":  # as many as the bottleneck run of this seed (and goal) found
            k = len(subgoals_for("bottleneck_options", seed, params, run)[1])
        return G, B.random_subgoals(env.n_states, k, _rng_seed(seed, 2, run))
    return None, []


def options_for(algo: str, seed: int, params: dict, run: int | None = None):
    """(OptionSet, subgoal states): the option set the run learns over (primitives first)."""
    from ...algos import bottleneck as B

    env, A, AH = _env(float(params["success_prob"]))
    if algo == "primitives":
        return A, []
    if algo == "handmade_options":
        return AH, []
    G, sg = subgoals_for(algo, seed, params, run)
    return B.subgoal_options(G, env.move_to, sg, base=A), sg


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    from ...shared import solvers as orc
    from ...algos import smdp_q
    from ...shared.fourrooms import task as _task

    if algo not in ALGOS:
        raise KeyError(f"{EXPERIMENT} has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    for k in ("alpha", "gamma"):
        if not 0 < float(params[k]) <= 1:
            raise ValueError(f"params.{k}={params[k]!r} outside (0, 1]")
    sp, gamma = float(params["success_prob"]), float(params["gamma"])
    env = _env(sp)[0]
    options, sg = options_for(algo, seed, params)
    start = tuple(params["start"])
    n_ep = int(params["n_episodes"])
    # (block, goal name, cell, goal set, options, subgoals, learner seed): the main goals, then the seed's
    # share of the goal sample
    blocks = []
    for block, gname in enumerate(params["main_goals"]):
        if gname not in params["goals"]:
            raise KeyError(f"params.main_goals: goal {gname!r} is not defined under params.goals")
        blocks.append((block, gname, tuple(params["goals"][gname]), "main", options, sg,
                       _rng_seed(seed, 10 + block)))
    gs = params.get("goal_sample") or {}
    if algo in gs.get("algos", ()):
        per_goal = gs["discovery"] == "per_goal"
        for j, (gi, gname, cell) in enumerate(sample_goals_of(seed, params)):
            o, s_ = options_for(algo, seed, params, run=gi) if per_goal else (options, sg)
            blocks.append((len(params["main_goals"]) + j, gname, cell, "sample", o, s_, _rng_seed(seed, 10, gi)))
    frames = []
    for block, gname, cell, goal_set, options, sg, learner_seed in blocks:
        goal, s0, optimal, _, _ = _task(sp, gamma, cell, start, "A")
        models = orc.option_models(env.P, options.act, options.beta, goal, gamma)
        _, Qo = orc.smdp_values(models)
        own = float(orc.expected_steps(models, orc.greedy(Qo))[s0])
        res = smdp_q.train(env.next_k, options, s0, goal, n_ep, alpha=float(params["alpha"]), gamma=gamma,
                           epsilon=float(params["epsilon"]), max_steps=int(params["max_steps"]),
                           seed=learner_seed)
        reached = res["reached"]
        frames.append(pd.DataFrame({
            "env": env.name,
            "goal": gname,
            "goal_set": goal_set,
            "phase": "sample" if goal_set == "sample" else ("first" if block == 0 else "switch"),
            "block": block,
            "goal_row": int(cell[0]),
            "goal_col": int(cell[1]),
            "episode": np.arange(1, n_ep + 1, dtype=np.int64),
            "steps": res["steps"].astype(np.int64),
            "return": reached.astype(np.float64),
            "success": reached.astype(bool),
            "decisions": res["decisions"].astype(np.int64),
            "ended_by": np.where(reached, "goal", "step_cap"),
            "optimal_steps": optimal,
            "option_set_optimal_steps": own,
            "n_options": np.int64(options.n_options - env.n_actions),
            "subgoals": json.dumps([[int(c) for c in env.cells[s]] for s in sg]),
        }))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------------------------
# analysis
# ----------------------------------------------------------------------------------------------


def near_hallway(params: dict, radius: int) -> set[tuple[int, int]]:
    """Cells within ``radius`` deterministic moves of a hallway."""
    from ...envs.fourrooms import states_within

    env = _env(float(params["success_prob"]))[0]
    return {tuple(int(c) for c in env.cells[s]) for s in states_within(env, env.hallways, radius)}


def main_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of the main goals (the seed's own option set; the goal sample's runs may have their own)."""
    return table[table["goal_set"] == "main"] if "goal_set" in table.columns else table


def doorway_fraction(table: pd.DataFrame, params: dict, top_k: int, radius: int,
                     algo: str = "bottleneck_options") -> pd.Series:
    """Per seed: fraction of the ``top_k`` best subgoals of ``algo`` within ``radius`` moves of a hallway
    (fewer than top_k found: the missing ones count as misses). The seed's own discovery (its main-goal
    rows), never a per-goal discovery of the goal sample."""
    near = near_hallway(params, radius)
    t = main_rows(table)
    runs = t[t["algo"] == algo].groupby("seed")["subgoals"].first()
    return runs.map(lambda txt: sum(tuple(c) in near for c in json.loads(txt)[: int(top_k)]) / int(top_k))


def near_known_subgoals(params: dict, radius: int = 1) -> set[tuple[int, int]]:
    """Cells within ``radius`` moves of a subgoal of the known-dynamics graph (the subgoals discovery finds
    with the whole graph: the 8 cells flanking the hallways), the subgoals included."""
    from ...algos import bottleneck as B
    from ...envs.fourrooms import states_within

    sp = float(params["success_prob"])
    env = _env(sp)[0]
    G, bc = known_graph(sp)
    lm = B.local_maxima(G, bc, int(params["discovery"]["radius"]))
    return {tuple(int(c) for c in env.cells[s]) for s in states_within(env, lm, radius)}


def goal_ratios(table: pd.DataFrame, params: dict, baseline: str, agent: str) -> pd.DataFrame:
    """Per (goal of the goal sample, seed): episodes-to-criterion of ``baseline`` / of ``agent`` (the
    criterion of ``params``; a censored block counts as its length). Columns goal, row, col, seed, ratio,
    etc_baseline, etc_agent, censored_baseline, censored_agent; goals in the sample's order, seeds ascending;
    only (goal, seed) pairs both algorithms ran."""
    from ...shared.fourrooms import criterion_table

    cols = ["goal", "row", "col", "seed", "ratio", "etc_baseline", "etc_agent", "censored_baseline",
            "censored_agent"]
    cells = dict(goal_sample(params))
    t = table[table["goal"].isin(list(cells)) & table["algo"].isin([baseline, agent])]
    if "goal_set" in t.columns:
        t = t[t["goal_set"] == "sample"]
    if t.empty:
        return pd.DataFrame(columns=cols)
    ct = criterion_table(t, params)
    piv = ct.pivot_table(index=["goal", "seed"], columns="algo", values=["etc", "censored"], aggfunc="first")
    if ("etc", baseline) not in piv.columns or ("etc", agent) not in piv.columns:
        return pd.DataFrame(columns=cols)
    piv = piv.dropna(subset=[("etc", baseline), ("etc", agent)])
    out = pd.DataFrame({
        "goal": piv.index.get_level_values("goal"),
        "seed": piv.index.get_level_values("seed").astype(int),
        "etc_baseline": piv[("etc", baseline)].to_numpy(dtype=float),
        "etc_agent": piv[("etc", agent)].to_numpy(dtype=float),
        "censored_baseline": piv[("censored", baseline)].to_numpy(dtype=bool),
        "censored_agent": piv[("censored", agent)].to_numpy(dtype=bool),
    })
    out["ratio"] = out["etc_baseline"] / out["etc_agent"]
    out["row"] = out["goal"].map(lambda g: cells[g][0]).astype(int)
    out["col"] = out["goal"].map(lambda g: cells[g][1]).astype(int)
    order = {g: i for i, g in enumerate(cells)}
    out = out.sort_values(["goal", "seed"], key=lambda c: c.map(order) if c.name == "goal" else c, kind="stable")
    return out[cols].reset_index(drop=True)


def stratified_by_goal(ratios: pd.DataFrame) -> tuple[np.ndarray, list[str], dict]:
    """The per-(seed, goal) ratios as a (runs, goals) array for the stratified bootstrap: one column per goal
    (in the order of ``ratios``), each goal's first ``m`` runs by seed, ``m`` the fewest runs any goal has
    (equal by design at the configured scales: the rotation of :func:`sample_goals_of`). Returns the array, the
    goals and what was left out ({goal: runs dropped})."""
    goals = list(dict.fromkeys(ratios["goal"]))
    if not goals:
        return np.empty((0, 0)), [], {}
    per = [ratios.loc[ratios["goal"] == g, "ratio"].to_numpy(dtype=float) for g in goals]
    m = min(v.size for v in per)
    dropped = {g: int(v.size - m) for g, v in zip(goals, per) if v.size > m}
    return np.column_stack([v[:m] for v in per]), goals, dropped


# ----------------------------------------------------------------------------------------------
# figures and report
# ----------------------------------------------------------------------------------------------


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...algos import bottleneck as B
    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    sp = float(params["success_prob"])
    env = _env(sp)[0]
    G, bc = known_graph(sp)

    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    grid = np.full(env.grid.shape, np.nan)
    grid[env.cells[:, 0], env.cells[:, 1]] = [bc[s] for s in range(env.n_states)]
    cmap = plt.get_cmap("magma").with_extremes(bad="lightgrey")
    im = axes[0].imshow(grid, cmap=cmap)
    for s in B.local_maxima(G, bc, int(params["discovery"]["radius"])):
        r, c = env.cells[s]
        axes[0].plot(c, r, marker="*", color="cyan", ms=14, mec="k")
    for h in env.hallways:
        r, c = env.cells[h]
        axes[0].add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="lime", lw=1.5))
    axes[0].set_title("known dynamics: betweenness; local maxima ★, hallways □", fontsize=10)
    fig.colorbar(im, ax=axes[0], shrink=0.8, label="betweenness (normalised)")
    counts = np.zeros(env.grid.shape)
    main = main_rows(table)
    runs = main[main["algo"] == "bottleneck_options"].groupby("seed")["subgoals"].first()
    for txt in runs:
        for r, c in json.loads(txt):
            counts[r, c] += 1
    freq = np.where(env.grid, counts / max(len(runs), 1), np.nan)
    im = axes[1].imshow(freq, cmap=plt.get_cmap("viridis").copy(), vmin=0, vmax=1)
    for h in env.hallways:
        r, c = env.cells[h]
        axes[1].add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="r", lw=1.5))
    axes[1].set_title(f"random-walk graphs ({params['discovery']['walk_steps']} steps): share of "
                      f"{len(runs)} seeds\nwith a subgoal in the cell (hallways red)", fontsize=10)
    fig.colorbar(im, ax=axes[1], shrink=0.8, label="share of seeds")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Bottleneck discovery by betweenness centrality (Şimşek & Barto 2009) in the rooms gridworld")
    savefig(fig, outdir / f"{EXPERIMENT}_betweenness.png")

    goals = list(params["main_goals"])
    algos = present(table, ALGOS)
    fig, axes = plt.subplots(1, len(goals), figsize=(6 * len(goals), 4.5), squeeze=False)
    for ax, g in zip(axes[0], goals):
        sub = table[table["goal"] == g]
        curve_iqm_ci(ax, sub, "episode", "steps", hue="algo", order=list(ALGOS),
                     labels={a: LABELS[a] for a in algos}, smooth=int(params["figure_smooth"]), reps=200)
        if not sub.empty:
            ax.axhline(float(sub["optimal_steps"].iloc[0]), color="k", ls="--", lw=1, label="optimum (oracle)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("episode")
        ax.set_ylabel("primitive steps per episode")
        ax.set_title(f"goal {g} {tuple(params['goals'][g])}: IQM over seeds, 95% CI")
        ax.legend(fontsize=8)
    fig.suptitle("SMDP Q-learning with discovered, hand-made and random-subgoal options")
    savefig(fig, outdir / f"{EXPERIMENT}_learning_curves.png")
    goal_ratio_figure(table, params, outdir / f"{EXPERIMENT}_goal_ratios.png")


#: the comparison the goal-sample figure and report show (that of discovered_vs_handmade_options)
GOAL_RATIO = ("handmade_options", "bottleneck_options")


def per_goal_summary(table: pd.DataFrame, params: dict, baseline: str = GOAL_RATIO[0],
                     agent: str = GOAL_RATIO[1]) -> pd.DataFrame:
    """Per goal of the goal sample: runs, IQM of the per-seed ratios baseline / agent with a seeded 95%
    bootstrap CI over its runs, censored runs of each algorithm, and whether the goal lies within one move
    of a known-graph subgoal (intervals: the claims' bootstrap settings, hrlmeta.stats.report_ci)."""
    from ...stats import report_ci

    r = goal_ratios(table, params, baseline, agent)
    near = near_known_subgoals(params, 1)
    rows = []
    for g, sub in r.groupby("goal", sort=False):
        est, lo, hi = report_ci(sub["ratio"].to_numpy(), "iqm")
        rc = (int(sub["row"].iloc[0]), int(sub["col"].iloc[0]))
        rows.append({"goal": g, "row": rc[0], "col": rc[1], "runs": len(sub), "iqm": est, "ci_low": lo,
                     "ci_high": hi, "censored_baseline": int(sub["censored_baseline"].sum()),
                     "censored_agent": int(sub["censored_agent"].sum()), "near_subgoal": rc in near})
    return pd.DataFrame(rows, columns=["goal", "row", "col", "runs", "iqm", "ci_low", "ci_high",
                                       "censored_baseline", "censored_agent", "near_subgoal"])


def goal_ratio_figure(table: pd.DataFrame, params: dict, path) -> None:
    """The rooms with each goal of the goal sample coloured by its IQM ratio of episodes-to-criterion,
    hand-made / discovered options (log colour scale centred on 1), and the per-goal IQMs with CIs."""
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    from ...algos import bottleneck as B
    from ...plotting import savefig, setup

    plt = setup()
    sp = float(params["success_prob"])
    env = _env(sp)[0]
    G, bc = known_graph(sp)
    summ = per_goal_summary(table, params)
    fig, axes = plt.subplots(1, 2, figsize=(14, 6), gridspec_kw={"width_ratios": [1, 1.2], "wspace": 0.45})
    ax = axes[0]
    ax.imshow(np.where(env.grid, 1.0, 0.0), cmap="gray", vmin=0, vmax=1.6)
    grid = np.full(env.grid.shape, np.nan)
    for _, row in summ.iterrows():
        grid[int(row["row"]), int(row["col"])] = row["iqm"]
    finite = summ["iqm"][np.isfinite(summ["iqm"]) & (summ["iqm"] > 0)]
    span = float(max(2.0, np.exp(np.abs(np.log(finite)).max()))) if len(finite) else 2.0
    # masked cells (walls, cells that are no goal) stay transparent: the colour map's default "bad" colour
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="RdBu", norm=LogNorm(vmin=1 / span, vmax=span))
    for _, row in summ.iterrows():
        dark = np.isfinite(row["iqm"]) and row["iqm"] > 0 and abs(np.log(row["iqm"])) > 0.6 * np.log(span)
        ax.text(row["col"], row["row"], f"{row['iqm']:.2f}", ha="center", va="center", fontsize=6.5,
                color="white" if dark else "black")
    goal_cells = set(zip(summ["row"].astype(int), summ["col"].astype(int)))
    for s in B.local_maxima(G, bc, int(params["discovery"]["radius"])):
        r, c = (int(v) for v in env.cells[s])
        # a subgoal that is also a goal: its star in the cell's corner, off the goal's number
        dr, dc = (-0.32, 0.32) if (r, c) in goal_cells else (0, 0)
        ax.plot(c + dc, r + dr, marker="*", color="gold", ms=6 if dr else 9, mec="k", mew=0.5)
    for h in env.hallways:
        r, c = env.cells[h]
        ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="lime", lw=1.5))
    r0, c0 = params["start"]
    ax.text(c0, r0, "S", ha="center", va="center", fontsize=10, weight="bold")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("per-goal IQM ratio, hand-made / discovered (>1: discovered faster);\n"
                 "★ known-graph subgoals, □ hallways, S start", fontsize=9)
    ratio_ticks = [t for t in (1 / 16, 1 / 8, 0.25, 0.5, 1, 2, 4, 8, 16) if 1 / span <= t <= span]

    def plain(axis):
        axis.set_major_locator(FixedLocator(ratio_ticks))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())

    cb = fig.colorbar(im, ax=ax, shrink=0.8, label="ratio (log scale)")
    plain(cb.ax.yaxis)
    ax = axes[1]
    if not summ.empty:
        o = summ.sort_values("iqm", kind="stable").reset_index(drop=True)
        y = np.arange(len(o))
        lo = np.clip(o["iqm"] - o["ci_low"], 0, None)
        hi = np.clip(o["ci_high"] - o["iqm"], 0, None)
        colors = np.where(o["near_subgoal"], "tab:orange", "tab:blue")
        ax.errorbar(o["iqm"], y, xerr=[lo, hi], fmt="none", ecolor="grey", lw=1)
        ax.scatter(o["iqm"], y, c=colors, zorder=3, s=18)
        ax.set_yticks(y)
        ax.set_yticklabels([f"{g} ({n})" for g, n in zip(o["goal"], o["runs"])], fontsize=7)
        ax.set_xscale("log")
        plain(ax.xaxis)
    ax.axvspan(0.8, 1.25, color="green", alpha=0.12, label="0.8-1.25 ('about as much')")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.scatter([], [], c="tab:orange", s=18, label="within one move of a known-graph subgoal")
    ax.scatter([], [], c="tab:blue", s=18, label="farther")
    ax.set_xlabel("IQM ratio of episodes-to-criterion, hand-made / discovered\n(95% CI over the goal's runs)")
    ax.set_title("goals of the sample (runs per goal)", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
    fig.suptitle("Discovered vs hand-made options over the goal sample (discovered_vs_handmade_options)")
    savefig(fig, path)


def report_section(table: pd.DataFrame, params: dict) -> str:
    from ...algos import bottleneck as B
    from ...stats import iqm
    from ...shared.fourrooms import criterion_table
    from ...shared.fourrooms import criterion_words as _criterion_words

    sp = float(params["success_prob"])
    env = _env(sp)[0]
    G, bc = known_graph(sp)
    lm = B.local_maxima(G, bc, int(params["discovery"]["radius"]))
    cells = ", ".join(f"({int(env.cells[s][0])}, {int(env.cells[s][1])})" for s in lm)
    d = params["discovery"]
    lines = [f"Known-dynamics graph: {G.number_of_nodes()} states, {G.number_of_edges()} edges; its betweenness "
             f"local maxima (radius {d['radius']}) are {len(lm)} cells: {cells} -- the cells next to the four "
             "hallways, not the hallway cells themselves (a hallway's two neighbours also lie on every path "
             "that ends in the hallway).", ""]
    for k in (4, int(d["max_subgoals"])):
        f = doorway_fraction(table, params, k, 1)
        if f.size:
            lines.append(f"- empirical graphs ({d['walk_steps']} random-walk steps): mean fraction of the top {k} "
                         f"subgoals within one move of a hallway {f.mean():.2f} over {f.size} seeds")
    main = main_rows(table)
    n_sg = main[main["algo"] == "bottleneck_options"].groupby("seed")["n_options"].first()
    if n_sg.size:
        lines.append(f"- bottleneck options per seed: mean {n_sg.mean():.1f} (min {n_sg.min()}, max {n_sg.max()})")
    ct = criterion_table(table, params)
    algos = present(table, ALGOS)
    lines += ["", f"Criterion: {_criterion_words(params)}.", "",
              "| goal | optimal steps | " + " | ".join(LABELS[a] for a in algos) + " |",
              "| --- | --- |" + " --- |" * len(algos)]
    for g in params["main_goals"]:
        sub = ct[ct["goal"] == g]
        opt = float(table.loc[table["goal"] == g, "optimal_steps"].iloc[0])
        cells_ = []
        for a in algos:
            s = sub[sub["algo"] == a]
            cells_.append("–" if s.empty else
                          f"{float(iqm(s['etc'].to_numpy()[:, None])):.0f} ({int(s['censored'].sum())} cens.)")
        lines.append(f"| {g} | {opt:.2f} | " + " | ".join(cells_) + " |")
    lines += ["", "Cells: IQM episodes-to-criterion over seeds (censored runs).", ""]
    lines += goal_sample_lines(table, params)
    lines += ["",
              "Şimşek & Barto define subgoals as states whose betweenness exceeds their neighbours'; the "
              "examples of theirs that could be read (Tic-Tac-Toe, Towers of Hanoi, Taxi, Playroom) do not "
              "include this gridworld, and their full text could not be verified. The "
              "option construction (regions between subgoals, shortest-path policies), the random-walk graph "
              "and the random-subgoal control's details here are this project's choices (config), and the "
              "paper's own sample sizes could not be verified."]
    return "\n".join(lines)


def goal_sample_lines(table: pd.DataFrame, params: dict) -> list[str]:
    """Report lines on the goal sample: its goals, their runs, the per-goal ratios by room."""
    from ...stats import iqm

    goals = goal_sample(params)
    if not goals:
        return []
    gs = params["goal_sample"]
    summ = per_goal_summary(table, params)
    near = near_known_subgoals(params, 1)
    n_near = sum(cell in near for _, cell in goals)
    k = min(int(gs["per_seed"]), len(goals))
    share = "every goal" if k == len(goals) else f"{k} of them in rotation"
    how = "per (seed, goal) run" if gs["discovery"] == "per_goal" else "once per seed"
    out = [f"Goal sample: {len(goals)} in-room goal cells, {gs['per_room']} per room (seed {gs['seed']}; hallways "
           f"and the start cell excluded), {n_near} of them within one move of a known-graph subgoal (kept); "
           f"each seed learns {share} with {', '.join(gs['algos'])}, options discovered {how}."]
    if summ.empty:
        return out + ["", "(no run of the goal sample in this table)"]
    r = goal_ratios(table, params, *GOAL_RATIO)
    env = _env(float(params["success_prob"]))[0]
    room_of = {tuple(int(c) for c in env.cells[s]): i for i, room in enumerate(env.rooms) for s in room}
    names = ("upper left (start)", "upper right", "lower left", "lower right")
    out += ["", "| room | goals | runs | IQM ratio hand-made / discovered | goals with IQM in 0.8-1.25 |",
            "| --- | --- | --- | --- | --- |"]
    summ = summ.assign(room=[room_of[(int(a), int(b))] for a, b in zip(summ["row"], summ["col"])])
    r = r.assign(room=[room_of[(int(a), int(b))] for a, b in zip(r["row"], r["col"])])
    for i in sorted(summ["room"].unique()):
        s_, rr = summ[summ["room"] == i], r[r["room"] == i]
        inside = int(((s_["iqm"] >= 0.8) & (s_["iqm"] <= 1.25)).sum())
        out.append(f"| {names[i] if i < len(names) else i} | {len(s_)} | {len(rr)} | "
                   f"{float(iqm(rr['ratio'].to_numpy()[:, None])):.2f} | {inside} |")
    far = r[~r.apply(lambda x: (int(x["row"]), int(x["col"])) in near, axis=1)]
    out += ["", f"All runs: IQM ratio {float(iqm(r['ratio'].to_numpy()[:, None])):.2f} over {len(r)} runs; "
            f"goals farther than one move from a known-graph subgoal only: "
            + (f"{float(iqm(far['ratio'].to_numpy()[:, None])):.2f} over {len(far)} runs." if len(far) else "none."),
            f"Censored runs: hand-made {int(r['censored_baseline'].sum())}, "
            f"discovered {int(r['censored_agent'].sum())}."]
    return out
