"""The exact oracle of ``fourrooms_optioncritic``: the optimum over primitive actions for the first goal (``hrlmeta oracle --experiment fourrooms_optioncritic``)."""

from __future__ import annotations

import numpy as np

from .analysis import EXPERIMENT, _env


def oracle(params: dict) -> dict:
    """Exact optimum over primitive actions for the first goal (the east doorway), under the paper's
    dynamics and discount: expected steps per episode from the uniform start distribution (all non-goal
    cells), of the optimal policy (value iteration; greedy ties uniform)."""
    from ...shared import solvers as orc

    env = _env(float(params["success_prob"]), params["dynamics"])
    goal = env.state(tuple(params["first_goal"]))
    gamma = float(params["gamma"])
    _, Q = orc.primitive_values(env.P, goal, gamma)
    models = orc.option_models(env.P, *orc.primitive_option_arrays(env.n_states, env.n_actions), goal, gamma)
    steps = orc.expected_steps(models, orc.greedy(Q))
    return {"experiment": EXPERIMENT, "dynamics": params["dynamics"],
            "optimal_expected_steps": {"first_goal": float(np.delete(steps, goal).mean())},
            "first_goal": list(params["first_goal"]), "start": "uniform over the non-goal cells"}
