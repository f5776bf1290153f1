"""The exact oracle of ``fourrooms_discovery``: the optimum for the goals and the known-dynamics graph's subgoals (``hrlmeta oracle --experiment fourrooms_discovery``)."""

from __future__ import annotations

from .analysis import EXPERIMENT, _env, goal_sample, known_graph


def oracle(params: dict) -> dict:
    """fourrooms_sutton's exact optimum for the goals, the known-dynamics graph's subgoals and the goal
    sample's cells."""
    from ...algos import bottleneck as B
    from ...shared.solvers import fourrooms_oracle

    sp = float(params["success_prob"])
    env = _env(sp)[0]
    G, bc = known_graph(sp)
    goals = {g: tuple(params["goals"][g]) for g in params["main_goals"]}
    res = fourrooms_oracle(goals, gamma=float(params["gamma"]), success_prob=sp)
    sub = B.local_maxima(G, bc, int(params["discovery"]["radius"]))
    return {"experiment": EXPERIMENT, **res,
            "known_graph_subgoals": [[int(c) for c in env.cells[s]] for s in sub],
            "hallways": [[int(c) for c in env.cells[h]] for h in env.hallways],
            "goal_sample": {name: list(cell) for name, cell in goal_sample(params)}}
