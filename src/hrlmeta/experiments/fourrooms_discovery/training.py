"""Training of ``fourrooms_discovery``: one run per (algorithm, seed) learns the main goals, then the seed's
share of the goal sample (see the package's docstring for the rows it writes)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .analysis import ALGOS, EXPERIMENT, _env, goal_sample, known_graph


def _rng_seed(seed: int, stream: int, run: int | None = None) -> int:
    """A seed for one random stream of a run: (seed, stream) for the seed's own run (the main goals),
    (seed, stream, goal index) for a run on a goal of the goal sample (:func:`sample_goals_of`)."""
    key = [int(seed), int(stream)] + ([] if run is None else [int(run)])
    return int(np.random.SeedSequence(key).generate_state(1)[0])


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


def _train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    """One run of ``algo`` on ``seed``: the main goals, then the seed's share of the goal sample."""
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
    gs = params["goal_sample"]
    if algo in gs["algos"]:
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


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [_train(algo, int(s), params) for s in seeds]
