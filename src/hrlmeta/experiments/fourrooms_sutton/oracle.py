"""The exact oracle of ``fourrooms_sutton``: the optimal expected steps per goal over primitives and each option set (``hrlmeta oracle --experiment fourrooms_sutton``)."""

from __future__ import annotations

from .analysis import EXPERIMENT


def oracle(params: dict) -> dict:
    from ...shared.solvers import fourrooms_oracle

    goals = {g: tuple(params["goals"][g]) for g in params["main_goals"]}
    for g in params["reuse_goals"]:
        goals[g] = tuple(params["goals"][g])
    res = fourrooms_oracle(goals, gamma=float(params["gamma"]), success_prob=float(params["success_prob"]))
    return {"experiment": EXPERIMENT, **res, "start": list(params["start"]),
            "goals": {g: list(c) for g, c in goals.items()}}
