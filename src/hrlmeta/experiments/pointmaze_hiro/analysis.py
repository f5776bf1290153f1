"""Torch-free helpers of ``pointmaze_hiro``: the maze and the schedule its parameters set (shared with the
training), and the analysis of its tables shared by its measures, figures and report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...envs.pointmaze import PointMaze  # numpy only
from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
LABELS = {"td3": "flat TD3", "hiro": "HIRO", "hiro_no_correction": "HIRO, no correction",
          "feudal": "FeUdal-style (TPG + cosine)"}


# ----------------------------------------------------------------------------- configuration


def make_env(params: dict) -> PointMaze:
    e = params["env"]
    return PointMaze(scaling=e["scaling"], forward_scale=e["forward_scale"],
                     max_turn=e["max_turn"], init_noise=e["init_noise"])


def _goal_str(g) -> str:
    return "(" + ", ".join(f"{float(v):g}" for v in g) + ")"


def schedule(params: dict) -> dict:
    """Training/evaluation schedule with the consistency checks (ValueError naming the key)."""
    tr, ev, env = params["train"], params["eval"], params["env"]
    n_envs, horizon = int(tr["n_envs"]), int(env["horizon"])
    block = n_envs * horizon
    total = int(tr["total_steps"])
    every = int(ev.get("every_steps", block))   # default: every training batch (n_envs x horizon)
    if total % block:
        raise ValueError(f"train.total_steps: {total} is not a multiple of n_envs x horizon = {block}")
    if every % block:
        raise ValueError(f"eval.every_steps: {every} is not a multiple of n_envs x horizon = {block}")
    goals = np.asarray(ev["goals"], float)
    if goals.ndim != 2 or goals.shape[1] != 2 or len(goals) == 0:
        raise ValueError(f"eval.goals: expected a list of (x, y) pairs, got {ev['goals']!r}")
    warm = int(tr["warmup_steps"])
    return {"n_envs": n_envs, "horizon": horizon, "total": total, "every": every, "warmup": warm,
            "episodes": int(ev["episodes"]), "goals": goals, "goal_strs": [_goal_str(g) for g in goals],
            "radius": float(ev["success_radius"]),
            "goal_low": float(env["train_goal_low"]), "goal_high": float(env["train_goal_high"])}


# ----------------------------------------------------------------------------- measures


def _eval_rows(table: pd.DataFrame, goal=None) -> pd.DataFrame:
    ev = table[table["phase"] == "eval"]
    if goal is not None and goal != "mean":
        g = _parse_goal(goal)
        ev = ev[np.isclose(ev["goal_x"], g[0]) & np.isclose(ev["goal_y"], g[1])]
        if ev.empty:
            raise ValueError(f"params.goal: no evaluation rows for goal {goal!r}")
    return ev


def _parse_goal(goal) -> tuple[float, float]:
    if isinstance(goal, str):
        parts = goal.strip("() ").split(",")
        if len(parts) != 2:
            raise ValueError(f"params.goal: expected 'mean' or 'x,y', got {goal!r}")
        return float(parts[0]), float(parts[1])
    x, y = goal
    return float(x), float(y)


def eval_curve(table: pd.DataFrame, goal=None) -> pd.DataFrame:
    """Success rate and mean final distance per (algo, seed, evaluation round): over all evaluation goals
    (``goal`` None or "mean": the mean of the per-goal success rates) or for one goal ("x,y")."""
    ev = _eval_rows(table, goal)
    per_goal = (ev.groupby(["algo", "seed", "episode", "env_steps", "goal_x", "goal_y"], sort=True)
                  .agg(success_rate=("success", "mean"), final_dist=("final_dist", "mean")).reset_index())
    return (per_goal.groupby(["algo", "seed", "episode", "env_steps"], sort=True)
                    .agg(success_rate=("success_rate", "mean"), final_dist=("final_dist", "mean")).reset_index())


def goal_curves(table: pd.DataFrame) -> pd.DataFrame:
    """Success rate per (algo, seed, evaluation round, goal)."""
    ev = table[table["phase"] == "eval"]
    return (ev.groupby(["algo", "seed", "episode", "env_steps", "goal_x", "goal_y"], sort=True)
              .agg(success_rate=("success", "mean"), final_dist=("final_dist", "mean")).reset_index())


def final_success(table: pd.DataFrame, algo: str, window: int = 3, goal=None) -> pd.Series:
    """Per seed: mean evaluation success rate over the last ``window`` evaluation rounds."""
    c = eval_curve(table, goal)
    c = c[c["algo"] == algo]
    return c.groupby("seed").apply(lambda d: d.sort_values("env_steps")["success_rate"].tail(window).mean(),
                                   include_groups=False)


def success_auc(table: pd.DataFrame, algo: str, goal=None) -> pd.Series:
    """Per seed: area under the success-rate curve over environment steps (trapezoid rule), divided by the
    budget: the mean success rate over training, in [0, 1]; > 0 as soon as an agent ever succeeds."""
    c = eval_curve(table, goal)
    c = c[c["algo"] == algo]
    out = {}
    for s, d in c.groupby("seed"):
        d = d.sort_values("env_steps")
        x, y = d["env_steps"].to_numpy(float), d["success_rate"].to_numpy(float)
        out[s] = float(np.trapezoid(y, x) / (x[-1] - x[0])) if len(x) > 1 and x[-1] > x[0] else float(y.mean())
    return pd.Series(out, dtype=float)


def steps_to_threshold(table: pd.DataFrame, algo: str, threshold: float, censor: float,
                       goal=None) -> tuple[pd.Series, pd.Series]:
    """Per seed: environment steps before the first evaluation whose success rate (mean over goals, or the
    one ``goal``) is >= ``threshold`` (``censor`` where none is); second value: True where censored."""
    c = eval_curve(table, goal)
    c = c[c["algo"] == algo]
    out, cens = {}, {}
    for s, d in c.groupby("seed"):
        hit = d[d["success_rate"] >= threshold]
        cens[s] = hit.empty
        out[s] = censor if hit.empty else float(hit["env_steps"].min())
    return pd.Series(out, dtype=float), pd.Series(cens, dtype=bool)


def median_steps(steps: pd.Series, censored: pd.Series) -> float | None:
    """Median over seeds of steps-to-threshold; None where at least half the runs are censored (the median
    then lies beyond the budget)."""
    return None if censored.mean() >= 0.5 else float(np.median(steps))


def _paired(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    seeds = a.index.intersection(b.index)
    return a[seeds], b[seeds]


def _budget(table: pd.DataFrame) -> float | None:
    ev = table[table["phase"] == "eval"]
    return float(ev["env_steps"].max()) if not ev.empty else None


def _goal_label(goal) -> str:
    return "the mean over the evaluation goals" if goal in (None, "mean") else f"goal {_goal_str(_parse_goal(goal))}"


def _score(table, algo, cp, window):
    """The per-seed score a claim compares: success AUC (default) or final success."""
    goal = cp.get("goal", "mean")
    if cp.get("measure", "auc") == "final":
        return final_success(table, algo, window, goal), f"final success (mean of the last {window} evaluations)"
    return success_auc(table, algo, goal), "success-rate area under the curve / budget"
