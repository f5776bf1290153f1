"""Training of ``fourrooms_optioncritic``: one run per (algorithm, seed), one row per episode (see the
package's docstring for the columns)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .analysis import ALGOS, EXPERIMENT, N_OPTIONS, _env, eval_terminations, final_terminations

ENV_NAME = "FourRooms-BaconHarbPrecup2017"
#: ``new_goal_region`` -> cells the moved goal is drawn from
_RELEASED_EXTRA = ((10, 6),)  # the authors' released list of next goals also holds the south hallway


def _check(params: dict) -> None:
    for k in ("alpha_critic", "alpha_theta", "alpha_beta", "sarsa_alpha", "ac_alpha_critic", "ac_alpha_actor", "gamma",
              "success_prob"):
        if not 0 < float(params[k]) <= 1:
            raise ValueError(f"params.{k}={params[k]!r} outside (0, 1]")
    if not 0 <= float(params["epsilon"]) <= 1:
        raise ValueError(f"params.epsilon={params['epsilon']!r} outside [0, 1]")
    if not 0 < int(params["switch_episode"]) <= int(params["n_episodes"]):
        raise ValueError(f"params.switch_episode={params['switch_episode']!r} must lie in 1..n_episodes")


def new_goal_cells(params: dict) -> list[tuple[int, int]]:
    """Cells the goal can move to (the lower-right room, optionally with the south hallway)."""
    env = _env(float(params["success_prob"]), params["dynamics"])
    cells = [tuple(int(c) for c in env.cells[s]) for s in env.rooms[3]]
    if params["new_goal_region"] == "released_code":
        cells += list(_RELEASED_EXTRA)
    return sorted(cells)


def goal_schedule(seed: int, params: dict) -> tuple[np.ndarray, tuple[int, int]]:
    """Goal state of every episode for ``seed`` and the moved goal's cell (a per-seed draw, the same for
    every algorithm)."""
    env = _env(float(params["success_prob"]), params["dynamics"])
    first = env.state(tuple(params["first_goal"]))
    cells = new_goal_cells(params)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 20170204]))
    new = cells[int(rng.integers(len(cells)))]
    n, k = int(params["n_episodes"]), int(params["switch_episode"])
    goals = np.full(n, first, dtype=np.int64)
    goals[k:] = env.state(new)
    return goals, new


def _train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    """One run of ``algo`` on ``seed``: one row per episode."""
    from ...algos import ac_pg, option_critic, sarsa0

    if algo not in ALGOS:
        raise KeyError(f"{EXPERIMENT} has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    _check(params)
    env = _env(float(params["success_prob"]), params["dynamics"])
    goals, new = goal_schedule(seed, params)
    run_seed = int(np.random.SeedSequence([int(seed), ALGOS.index(algo)]).generate_state(1)[0])
    common = dict(gamma=float(params["gamma"]), temperature=float(params["temperature"]),
                  max_steps=int(params["max_steps"]), seed=run_seed)
    final_beta = None
    events = ""
    if algo == "sarsa0":
        res = sarsa0.train(env.next_k, goals, alpha=float(params["sarsa_alpha"]), **common)
    elif algo == "ac_pg":
        res = ac_pg.train(env.next_k, goals, alpha_critic=float(params["ac_alpha_critic"]),
                          alpha_actor=float(params["ac_alpha_actor"]), **common)
    else:
        res = option_critic.train(env.next_k, goals, N_OPTIONS[algo], alpha_critic=float(params["alpha_critic"]),
                                  alpha_theta=float(params["alpha_theta"]), alpha_beta=float(params["alpha_beta"]),
                                  epsilon=float(params["epsilon"]), xi=float(params["xi"]),
                                  intra_baseline=bool(params["intra_baseline"]), **common)
        final_beta = res["beta"]
        events = _evaluate_terminations(env, goals[-1], res, seed, algo, params)
    n = goals.size
    k = int(params["switch_episode"])
    reached = res["reached"]
    cells = env.cells[goals]
    beta_col = np.full(n, "", dtype=object)
    if final_beta is not None:
        beta_col[-1] = json.dumps({"n_options": int(final_beta.shape[0]),
                                   "beta": np.round(final_beta, 6).tolist()}, separators=(",", ":"))
    events_col = np.full(n, "", dtype=object)
    events_col[-1] = events
    df = pd.DataFrame({
        "env": ENV_NAME,
        "episode": np.arange(1, n + 1, dtype=np.int64),
        "phase": np.where(np.arange(n) < k, "before_switch", "after_switch"),
        "goal_row": cells[:, 0].astype(np.int64),
        "goal_col": cells[:, 1].astype(np.int64),
        "steps": res["steps"].astype(np.int64),
        "return": reached.astype(np.float64),
        "success": reached.astype(bool),
        "decisions": res["decisions"].astype(np.int64),
        "ended_by": np.where(reached, "goal", "step_cap"),
        "n_options": np.int64(N_OPTIONS.get(algo, 0)),
        "final_beta": beta_col.astype(str),
        "eval_terminations": events_col.astype(str),
    })
    final_terminations(df.assign(algo=algo, seed=int(seed)), n_states=env.n_states)  # validates the column
    eval_terminations(df.assign(algo=algo, seed=int(seed)), n_states=env.n_states)  # validates the column
    return df


#: stream of the evaluation episodes' generator, beside the training run's (SeedSequence([seed, algo index]))
_EVAL_STREAM = 1


def _evaluate_terminations(env, goal: int, res: dict, seed: int, algo: str, params: dict) -> str:
    """The ``eval_terminations`` JSON of one option-critic run (the empty string when ``eval_episodes`` is 0)."""
    from .evaluation import check_counts, evaluate

    m = int(params["eval_episodes"])
    if m == 0:
        return ""
    eval_seed = int(np.random.SeedSequence([int(seed), ALGOS.index(algo), _EVAL_STREAM]).generate_state(1)[0])
    ev = evaluate(env.next_k, int(goal), res["Q"], res["theta"], res["vartheta"], epsilon=float(params["epsilon"]),
                  temperature=float(params["temperature"]), max_steps=int(params["max_steps"]), n_episodes=m,
                  seed=eval_seed)
    check_counts(ev)
    r, c = (int(x) for x in env.cells[int(goal)])
    return json.dumps({"n_options": int(ev["visits"].shape[0]), "episodes": m, "goal": [r, c],
                       "visits": ev["visits"].tolist(), "terminations": ev["terminations"].tolist(),
                       "steps": int(ev["steps"].sum()), "decisions": int(ev["decisions"].sum()),
                       "reached": int(ev["reached"].sum())}, separators=(",", ":"))


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [_train(algo, int(s), params) for s in seeds]
