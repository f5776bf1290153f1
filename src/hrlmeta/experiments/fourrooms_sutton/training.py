"""Training of ``fourrooms_sutton``: one run per (algorithm, seed) plays the goal sequence (see the package's
docstring for the rows it writes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...shared.fourrooms import env_and_option_sets as _env, task as _task
from .analysis import ALGOS, EXPERIMENT, goal_sequence


def _option_set_of(algo: str, params: dict) -> str:
    return {"flat_q": "A", "smdp_q_options": "H", "smdp_q_mixed": "AH",
            "intra_option_q": params["intra_option_set"]}[algo]


def _alpha(params: dict, algo: str, goal: str) -> float:
    for exc in params["alpha_exceptions"]:
        if exc["algo"] == algo and exc["goal"] == goal:
            return float(exc["alpha"])
    return float(params["alpha"])


def snapshot_episodes(n_episodes: int, greedy_eval: dict) -> np.ndarray:
    """Episodes (1-based) after which the greedy policy is evaluated: every episode up to ``dense``,
    then ``n_log`` log-spaced ones up to the last episode."""
    dense = min(int(greedy_eval["dense"]), n_episodes)
    geo = np.geomspace(max(dense, 1), n_episodes, int(greedy_eval["n_log"]))
    return np.unique(np.r_[np.arange(1, dense + 1), np.round(geo).astype(np.int64), n_episodes])


def _train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    from ...shared import solvers as orc
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


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [_train(algo, int(s), params) for s in seeds]


if __name__ == "__main__":  # pragma: no cover
    import json

    from ...config import experiment_params, load_config
    from .. import REGISTRY
    from .oracle import oracle

    print(json.dumps(oracle(experiment_params(load_config(REGISTRY), EXPERIMENT))))
