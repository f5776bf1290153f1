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

Rows: one per episode, with the columns ``fourrooms_sutton``'s criterion code reads (``goal``, ``phase``,
``block``, ``optimal_steps``, ``option_set_optimal_steps``) plus ``n_options`` and ``subgoals`` (JSON list
of the run's subgoal cells [row, col], best first; ``"[]"`` for primitives / hand-made options).
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


def _rng_seed(seed: int, stream: int) -> int:
    return int(np.random.SeedSequence([int(seed), stream]).generate_state(1)[0])


def subgoals_for(algo: str, seed: int, params: dict):
    """(graph, subgoal states best first) the run of ``algo`` with ``seed`` builds its options from."""
    from ...algos import bottleneck as B

    sp = float(params["success_prob"])
    env = _env(sp)[0]
    d = params["discovery"]
    if algo == "bottleneck_options":
        if d["graph"] == "known":
            G, bc = known_graph(sp)
        else:
            tr = B.random_walk_transitions(env.next_k, env.state(tuple(params["start"])), int(d["walk_steps"]),
                                           _rng_seed(seed, 1))
            G = B.graph_from_transitions(tr, env.n_states)
            bc = B.betweenness(G)
        return G, B.local_maxima(G, bc, int(d["radius"]))[: int(d["max_subgoals"])]
    if algo == "random_subgoal_options":
        G, _ = known_graph(sp)
        k = int(d["max_subgoals"])
        if d["random_count"] == "match":  # as many as the bottleneck run of this seed found
            k = len(subgoals_for("bottleneck_options", seed, params)[1])
        return G, B.random_subgoals(env.n_states, k, _rng_seed(seed, 2))
    return None, []


def options_for(algo: str, seed: int, params: dict):
    """(OptionSet, subgoal states): the option set the run learns over (primitives first)."""
    from ...algos import bottleneck as B

    env, A, AH = _env(float(params["success_prob"]))
    if algo == "primitives":
        return A, []
    if algo == "handmade_options":
        return AH, []
    G, sg = subgoals_for(algo, seed, params)
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
    sg_json = json.dumps([[int(c) for c in env.cells[s]] for s in sg])
    start = tuple(params["start"])
    n_ep = int(params["n_episodes"])
    frames = []
    for block, gname in enumerate(params["main_goals"]):
        if gname not in params["goals"]:
            raise KeyError(f"params.main_goals: goal {gname!r} is not defined under params.goals")
        cell = tuple(params["goals"][gname])
        goal, s0, optimal, _, _ = _task(sp, gamma, cell, start, "A")
        models = orc.option_models(env.P, options.act, options.beta, goal, gamma)
        _, Qo = orc.smdp_values(models)
        own = float(orc.expected_steps(models, orc.greedy(Qo))[s0])
        res = smdp_q.train(env.next_k, options, s0, goal, n_ep, alpha=float(params["alpha"]), gamma=gamma,
                           epsilon=float(params["epsilon"]), max_steps=int(params["max_steps"]),
                           seed=_rng_seed(seed, 10 + block))
        reached = res["reached"]
        frames.append(pd.DataFrame({
            "env": env.name,
            "goal": gname,
            "phase": "first" if block == 0 else "switch",
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
            "subgoals": sg_json,
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


def doorway_fraction(table: pd.DataFrame, params: dict, top_k: int, radius: int,
                     algo: str = "bottleneck_options") -> pd.Series:
    """Per seed: fraction of the ``top_k`` best subgoals of ``algo`` within ``radius`` moves of a hallway
    (fewer than top_k found: the missing ones count as misses)."""
    near = near_hallway(params, radius)
    runs = table[table["algo"] == algo].groupby("seed")["subgoals"].first()
    return runs.map(lambda txt: sum(tuple(c) in near for c in json.loads(txt)[: int(top_k)]) / int(top_k))


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
    cmap = plt.get_cmap("magma").copy()
    cmap.set_bad("lightgrey")
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
    runs = table[table["algo"] == "bottleneck_options"].groupby("seed")["subgoals"].first()
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
    n_sg = table[table["algo"] == "bottleneck_options"].groupby("seed")["n_options"].first()
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
    lines += ["", "Cells: IQM episodes-to-criterion over seeds (censored runs).", "",
              "Şimşek & Barto define subgoals as states whose betweenness exceeds their neighbours'; the "
              "examples of theirs that could be read (Tic-Tac-Toe, Towers of Hanoi, Taxi, Playroom) do not "
              "include this gridworld, and their full text could not be verified. The "
              "option construction (regions between subgoals, shortest-path policies), the random-walk graph "
              "and the random-subgoal control's details here are this project's choices (config), and the "
              "paper's own sample sizes could not be verified."]
    return "\n".join(lines)
