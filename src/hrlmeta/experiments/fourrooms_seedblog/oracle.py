"""The exact oracle of ``fourrooms_seedblog``: the listing's task references (goal-aware optimum, a random policy's score) (``hrlmeta oracle --experiment fourrooms_seedblog``)."""

from __future__ import annotations

from .analysis import random_policy_reference


def oracle(params: dict) -> dict:
    """Exact references of the listing's task: the goal-aware optimum and a random policy's score."""
    ref = random_policy_reference(int(params["size"]), int(params["max_steps"]))
    return {"experiment": "fourrooms_seedblog", **ref}
