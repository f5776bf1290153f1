"""Torch-free analysis of ``fourrooms_discovery``'s tables, shared by its training (the environment, the
known-dynamics graph, the goal sample), measures, oracle, figures and report."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd

from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
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


def goal_sample(params: dict) -> list[tuple[str, tuple[int, int]]]:
    """The goal sample: [(name, (row, col))], ``goal_sample.per_room`` cells drawn without replacement from
    each room's cells (hallways are no room cells; the start cell is left out), with the fixed seed
    ``goal_sample.seed``; rooms in the environment's order, cells row-major within a room. Names ``r{row}c{col}``.
    Empty where ``per_room`` is 0 (its default)."""
    gs = params["goal_sample"]
    k = int(gs["per_room"])
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
