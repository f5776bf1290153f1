"""Training of ``cartpole_flip_meta``: the task-family harness (:func:`hrlmeta.shared.meta_task_family.run`)
on the mirrored-action CartPole family, one run per (algorithm, seed) (see the package's docstring)."""

from __future__ import annotations

import pandas as pd

from ...shared import meta_task_family as base

ENV_NAME = "cartpole_mirrored_actions_task_family"
EXPERIMENT = "cartpole_flip_meta"


def make_env(params: dict):
    return base.make_env(params)


def _train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    if not float(params["env"]["flip_prob"]) > 0:
        raise ValueError(f"{EXPERIMENT}: params.env.flip_prob must be > 0 (0 is cartpole_meta's family)")
    return base.run(algo, seed, params, EXPERIMENT, ENV_NAME, make_env)


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [_train(algo, int(s), params) for s in seeds]
