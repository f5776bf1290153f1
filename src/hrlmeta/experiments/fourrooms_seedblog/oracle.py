"""The exact oracle of ``fourrooms_seedblog``: the listing's task references (goal-aware optimum, a random policy's score) (``hrlmeta oracle --experiment fourrooms_seedblog``)."""

from __future__ import annotations

from . import _p, random_policy_reference


def oracle(params: dict) -> dict:
    """Exact references of the listing's task: the goal-aware optimum and a random policy's score."""
    p = _p(params)
    ref = random_policy_reference(int(p["size"]), int(p["max_steps"]))
    return {"experiment": "fourrooms_seedblog", **ref}
