"""Torch-free analysis of ``fourrooms_optioncritic``'s tables, shared by its training (the validation of the
JSON columns), measures, oracle, figures and report: the environment, the parsed termination columns and the
per-seed ratios the claims measure."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd

from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
EXPERIMENT = "fourrooms_optioncritic"
LABELS = {
    "sarsa0": "SARSA(0)",
    "ac_pg": "AC-PG",
    "option_critic_4": "option-critic, 4 options",
    "option_critic_8": "option-critic, 8 options",
}
N_OPTIONS = {"option_critic_4": 4, "option_critic_8": 8}


@functools.lru_cache(maxsize=4)
def _env(success_prob: float, dynamics: str):
    from ...envs.fourrooms import make_fourrooms

    return make_fourrooms(success_prob, dynamics)


def final_terminations(table: pd.DataFrame, n_states: int | None = None) -> pd.DataFrame:
    """Long table of the final termination probabilities: algo, seed, option, state, beta (one row per
    option x cell of every option-critic run). Raises ValueError on a malformed ``final_beta`` entry."""
    rows = table[table["final_beta"].astype(str) != ""]
    out = []
    for algo, seed, txt in zip(rows["algo"], rows["seed"], rows["final_beta"]):
        try:
            d = json.loads(txt)
            beta = np.asarray(d["beta"], dtype=float)
            n_opt = int(d["n_options"])
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"final_beta of {algo} seed {seed} is not valid JSON {{n_options, beta}}: {e}") from e
        if beta.ndim != 2 or beta.shape[0] != n_opt or (n_states is not None and beta.shape[1] != n_states):
            raise ValueError(f"final_beta of {algo} seed {seed} has shape {beta.shape}, expected ({n_opt}, S)")
        if not ((beta >= 0) & (beta <= 1)).all():
            raise ValueError(f"final_beta of {algo} seed {seed} has probabilities outside [0, 1]")
        o, s = np.meshgrid(np.arange(n_opt), np.arange(beta.shape[1]), indexing="ij")
        out.append(pd.DataFrame({"algo": algo, "seed": int(seed), "option": o.ravel(), "state": s.ravel(),
                                 "beta": beta.ravel()}))
    if not out:
        return pd.DataFrame(columns=["algo", "seed", "option", "state", "beta"])
    return pd.concat(out, ignore_index=True)


EVENT_COLUMNS = ["algo", "seed", "option", "state", "visits", "terminations"]


def eval_terminations(table: pd.DataFrame, n_states: int | None = None) -> pd.DataFrame:
    """Long table of the termination events over the evaluation episodes: algo, seed, option, state, visits,
    terminations (one row per option x cell of every option-critic run that has them). Raises ValueError on
    a malformed ``eval_terminations`` entry (bad JSON or shape, negative counts, more events than visits in a
    cell, totals that disagree with the episodes' steps and decisions)."""
    if "eval_terminations" not in table:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    rows = table[table["eval_terminations"].astype(str) != ""]
    out = []
    for algo, seed, txt in zip(rows["algo"], rows["seed"], rows["eval_terminations"]):
        try:
            d = json.loads(txt)
            visits = np.asarray(d["visits"], dtype=np.int64)
            terms = np.asarray(d["terminations"], dtype=np.int64)
            n_opt, m = int(d["n_options"]), int(d["episodes"])
            steps, decisions = int(d["steps"]), int(d["decisions"])
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"eval_terminations of {algo} seed {seed} is not valid JSON {{n_options, episodes, "
                             f"visits, terminations, steps, decisions}}: {e}") from e
        where = f"eval_terminations of {algo} seed {seed}"
        if (visits.ndim != 2 or visits.shape != terms.shape or visits.shape[0] != n_opt
                or (n_states is not None and visits.shape[1] != n_states)):
            raise ValueError(f"{where} has shapes {visits.shape} / {terms.shape}, expected ({n_opt}, S)")
        if (visits < 0).any() or (terms < 0).any() or (terms > visits).any():
            raise ValueError(f"{where}: counts must be non-negative with at most one event per visit")
        if int(terms.sum()) != decisions - m or int(visits.sum()) != steps - m:
            raise ValueError(f"{where}: {int(terms.sum())} events / {int(visits.sum())} visits disagree with "
                             f"{decisions} decisions / {steps} steps over {m} episodes")
        o, s = np.meshgrid(np.arange(n_opt), np.arange(visits.shape[1]), indexing="ij")
        out.append(pd.DataFrame({"algo": algo, "seed": int(seed), "option": o.ravel(), "state": s.ravel(),
                                 "visits": visits.ravel(), "terminations": terms.ravel()}))
    if not out:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    return pd.concat(out, ignore_index=True)


def termination_lift(table: pd.DataFrame, params: dict, agent: str, radius: int) -> pd.Series:
    """Per seed: the lift of termination events near a doorway = (share of the evaluation episodes'
    termination events in cells within ``radius`` moves of a hallway) / (share of the visits -- arrivals
    where a termination was drawn -- in those cells). 1 = options end near a doorway as often per visit as
    elsewhere; > 1 = more often. NaN where a run has no event or no visit near a doorway."""
    ev = eval_terminations(table[table["algo"] == agent])
    if ev.empty:
        return pd.Series(dtype=float, name=agent)
    near = doorway_cells(params, radius)
    ev = ev.assign(near=ev["state"].isin(near))
    tot = ev.groupby("seed")[["visits", "terminations"]].sum()
    at = ev[ev["near"]].groupby("seed")[["visits", "terminations"]].sum().reindex(tot.index, fill_value=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = ((at["terminations"] / tot["terminations"]) / (at["visits"] / tot["visits"])).astype(float)
    lift[(tot["terminations"] == 0) | (at["visits"] == 0)] = np.nan
    return lift.rename(agent)


def doorway_cells(params: dict, radius: int) -> set[int]:
    """States within ``radius`` moves (deterministic, 4-neighbourhood) of a hallway."""
    from ...envs.fourrooms import states_within

    env = _env(float(params["success_prob"]), params["dynamics"])
    return states_within(env, env.hallways, radius)


def termination_ratio(table: pd.DataFrame, params: dict, agent: str, radius: int) -> pd.Series:
    """Per seed: mean final termination probability over (options x cells within ``radius`` of a
    hallway) / the same mean over every other cell; the final goal cell is left out (terminal, its
    terminations are never trained)."""
    ft = final_terminations(table[table["algo"] == agent])
    if ft.empty:
        return pd.Series(dtype=float)
    near = doorway_cells(params, radius)
    last = table[(table["algo"] == agent)].sort_values("episode").groupby("seed").tail(1)
    env = _env(float(params["success_prob"]), params["dynamics"])
    goal_state = {int(sd): env.state((int(r), int(c))) for sd, r, c in
                  zip(last["seed"], last["goal_row"], last["goal_col"])}
    ft = ft[ft["state"].to_numpy() != ft["seed"].map(goal_state).to_numpy()]
    ft = ft.assign(near=ft["state"].isin(near))
    m = ft.groupby(["seed", "near"])["beta"].mean().unstack()
    return (m[True] / m[False]).rename(agent)


def recovery_ratio(table: pd.DataFrame, params: dict, baseline: str, agent: str, window: int,
                   per_seed: str = "mean", phase: str = "after_switch") -> pd.Series:
    """Per seed: steps per episode of ``baseline`` / of ``agent`` over the first ``window`` episodes of
    ``phase`` (``after_switch``: the episodes right after the goal moved; ``before_switch``: the first
    episodes of the run), each side summarised by its ``per_seed`` mean or median."""
    k = int(params["switch_episode"])
    lo, hi = (k, k + int(window)) if phase == "after_switch" else (0, min(int(window), k))
    sub = table[(table["episode"] > lo) & (table["episode"] <= hi)
                & table["algo"].isin([baseline, agent])]
    agg = sub.groupby(["algo", "seed"])["steps"].agg(per_seed).unstack(0)
    if baseline not in agg or agent not in agg:
        return pd.Series(dtype=float)
    return (agg[baseline] / agg[agent]).dropna()
