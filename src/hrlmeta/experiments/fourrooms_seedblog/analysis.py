"""Torch-free analysis of ``fourrooms_seedblog``'s tables, shared by its measures, oracle, figures and
report: the exact random-policy reference, per-seed extraction and the audit summary."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ...algos import listing_fourrooms as sb
from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml

LABELS = {"flat_q": "Flat Q-Learning", "intra_option_q": "Intra-Option Q-Learning"}


# ----------------------------------------------------------------------------------------------
# exact reference: a uniformly random policy under each agent's episode structure
# ----------------------------------------------------------------------------------------------
def _quarter_turn_goals(env, cells: list, idx: dict) -> np.ndarray:
    """Goal cells up to the quarter-turn symmetry of the listing's layout, if it has it.

    The quarter turn (i, j) -> (j, size-1-i) maps the 13x13 grid onto itself, every room onto the next
    and each room's exit onto the next room's exit, so (start, goal) and its rotation have the same
    random-policy value; every free cell lies in an orbit of exactly 4 (the centre is a wall). Then
    averaging over the goals of one orbit representative each (room 0 plus one door) is the full
    average. Returns all goals where the check fails."""
    size = env.size
    rot = lambda c: (c[1], size - 1 - c[0])  # noqa: E731
    every = np.arange(len(cells))
    if any(rot(c) not in idx for c in cells):
        return every
    for k in range(4):
        image = {rot(c) for c in env.rooms[k]}
        targets = [m for m in range(4) if set(env.rooms[m]) == image]
        if len(targets) != 1 or rot(env.hallways[k]) != env.hallways[targets[0]]:
            return every
    seen, reps = set(), []
    for c in cells:
        if c in seen:
            continue
        orbit = {c, rot(c), rot(rot(c)), rot(rot(rot(c)))}
        if len(orbit) != 4:
            return every
        seen |= orbit
        reps.append(idx[c])
    return np.array(reps)


@functools.lru_cache(maxsize=8)
def random_policy_reference(size: int = 13, max_steps: int = 1000, use_symmetry: bool = True) -> dict:
    """Exact expected ``steps`` and success probability per episode of a uniformly random policy,
    averaged over the listing's start/goal distribution (start uniform over the free cells, goal
    uniform over the other free cells), with the listing's step cap.

    * ``flat_q`` structure: the episode ends at the goal or the cap.
    * ``intra_option_q`` structure: a start on a door cell is a 0-step episode (no option can be
      initiated); from a room cell the episode ends at the goal, at that room's ``hallways`` exit
      (the option terminates and no option is available there) or at the cap. This is exactly the
      listing's options agent with epsilon = 1 (its option choice is forced: one per cell).

    The random walk (4 actions, blocked moves stay) is symmetric, so with Q the walk restricted to
    the non-absorbing cells, Q = V diag(l) V^T and sum_{t<N} Q^t = V diag((1 - l^N) / (1 - l)) V^T:
    E[min(T, N)] = (sum_t Q^t) 1 and P(goal before the cap) = (sum_t Q^t) P[:, goal].
    Also returned: the goal-aware optimum (mean shortest-path length), which neither agent can
    reach since their tables do not see the goal. ``use_symmetry`` solves only one goal per orbit of
    the layout's quarter-turn symmetry (:func:`_quarter_turn_goals`; same values, 4x less work).
    """
    env = sb.FourRoomsEnv(np.random.RandomState(0), size=size)  # layout only, no draws
    cells = [(i, j) for i in range(size) for j in range(size) if env.grid[i, j] == 0]
    idx = {c: k for k, c in enumerate(cells)}
    n = len(cells)
    P = np.zeros((n, n))
    for c in cells:
        for dy, dx in env.actions:
            m = (c[0] + dy, c[1] + dx)
            if not (0 <= m[0] < size and 0 <= m[1] < size and env.grid[m] == 0):
                m = c
            P[idx[c], idx[m]] += 0.25

    room_of = {idx[c]: r for r, cs in env.rooms.items() for c in cs}
    goals = _quarter_turn_goals(env, cells, idx) if use_symmetry else np.arange(n)
    m = len(goals)

    def solve(absorbing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For every goal g (absorbing[g] = the cells where an episode with goal g stops): expected
        capped steps and success probability from every cell, shaped (goal, start). Absorbing
        cells are cut out by zeroing their rows and columns, which keeps Q symmetric."""
        Q = np.broadcast_to(P, (m, n, n)).copy()
        Q[absorbing] = 0.0  # rows: absorbing[g] is a boolean mask over cells
        Q.transpose(0, 2, 1)[absorbing] = 0.0  # columns
        lam, V = np.linalg.eigh(Q)
        S = (V * ((1.0 - lam**max_steps) / (1.0 - lam))[:, None, :]) @ V.transpose(0, 2, 1)
        return S.sum(2), np.einsum("gij,jg->gi", S, P[:, goals])

    flat_stop = np.eye(n, dtype=bool)[goals]
    flat_e, flat_s = solve(flat_stop)
    start_ok = ~flat_stop  # start != goal
    opt_e, opt_s = np.zeros((m, n)), np.zeros((m, n))  # door starts: 0 steps, no success
    for r in range(4):
        stop = flat_stop.copy()
        stop[:, idx[env.hallways[r]]] = True
        e, s = solve(stop)
        room = np.array([idx[c] for c in env.rooms[r]])
        opt_e[:, room], opt_s[:, room] = e[:, room], s[:, room]
    flat_e, flat_s, opt_e, opt_s = (a[start_ok] for a in (flat_e, flat_s, opt_e, opt_s))
    # goal-aware optimum: BFS distances
    dist_sum, pairs = 0, 0
    for src in cells:
        d = {src: 0}
        frontier = [src]
        while frontier:
            nxt = []
            for c in frontier:
                for dy, dx in env.actions:
                    m = (c[0] + dy, c[1] + dx)
                    if 0 <= m[0] < size and 0 <= m[1] < size and env.grid[m] == 0 and m not in d:
                        d[m] = d[c] + 1
                        nxt.append(m)
            frontier = nxt
        dist_sum += sum(d.values())
        pairs += len(d) - 1
    return {
        "n_free_cells": n,
        "n_door_cells": n - len(room_of),
        "random_policy": {
            "flat_q": {"expected_steps": float(np.mean(flat_e)), "success_prob": float(np.mean(flat_s))},
            "intra_option_q": {"expected_steps": float(np.mean(opt_e)), "success_prob": float(np.mean(opt_s))},
        },
        "goal_aware_optimal_expected_steps": dist_sum / pairs,
    }


# ----------------------------------------------------------------------------------------------
# claims
# ----------------------------------------------------------------------------------------------
def _per_seed(table: pd.DataFrame, algo: str, col: str, lo: int | None = None, hi: int | None = None,
              where: pd.Series | None = None) -> pd.Series:
    sub = table[table["algo"] == algo]
    if where is not None:
        sub = sub[where.loc[sub.index]]
    if lo is not None:
        sub = sub[sub["episode"] >= lo]
    if hi is not None:
        sub = sub[sub["episode"] < hi]
    return sub.groupby("seed")[col].mean()


def _paired(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    seeds = sorted(set(a.index) & set(b.index))
    return a.loc[seeds], b.loc[seeds]


def _last_window(table: pd.DataFrame, params: dict) -> tuple[int, int]:
    n_ep = int(table["episode"].max()) + 1
    return max(0, n_ep - int(params["final_episodes"])), n_ep


# ----------------------------------------------------------------------------------------------
# audit summary
# ----------------------------------------------------------------------------------------------
def audit_summary(table: pd.DataFrame, params: dict) -> pd.DataFrame:
    """One row per agent: the numbers that decide whether the speedup is real."""
    ref = random_policy_reference(int(params["size"]), int(params["max_steps"]))["random_policy"]
    rows = []
    for algo in ALGOS:
        sub = table[table["algo"] == algo]
        if sub.empty:
            continue
        ends = sub["ended_by"].value_counts(normalize=True)
        n_ep = int(sub["episode"].max()) + 1
        k = int(params["final_episodes"])
        rows.append({
            "algo": algo,
            "seeds": sub["seed"].nunique(),
            "episodes": len(sub),
            "mean_steps": sub["steps"].mean(),
            "mean_steps_first": sub.loc[sub["episode"] < k, "steps"].mean(),
            "mean_steps_last": sub.loc[sub["episode"] >= n_ep - k, "steps"].mean(),
            "success_rate": sub["success"].mean(),
            "success_rate_last": sub.loc[sub["episode"] >= n_ep - k, "success"].mean(),
            "steps_successful": sub.loc[sub["success"], "steps"].mean(),
            "return_last": sub.loc[sub["episode"] >= n_ep - k, "return"].mean(),
            "end_goal": ends.get(sb.GOAL, 0.0),
            "end_no_option": ends.get(sb.NO_OPTION, 0.0),
            "end_step_cap": ends.get(sb.STEP_CAP, 0.0),
            "zero_step_door_starts": int(((sub["steps"] == 0) & sub["start_is_door"]).sum()),
            "success_goal_in_start_room": sub.loc[sub["goal_in_start_room"], "success"].mean(),
            "success_goal_elsewhere": sub.loc[~sub["goal_in_start_room"], "success"].mean(),
            "decisions_per_episode": sub["decisions"].mean(),
            "random_expected_steps": ref[algo]["expected_steps"],
            "random_success_prob": ref[algo]["success_prob"],
        })
    return pd.DataFrame(rows)


def _ratio_ci(values: np.ndarray) -> tuple[float, float, float]:
    from ...stats import report_ci

    return report_ci(values, "iqm")

