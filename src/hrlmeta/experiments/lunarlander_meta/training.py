"""Training of ``lunarlander_meta``: the task-family harness (:func:`hrlmeta.shared.meta_task_family.run`) on
the LunarLander-v3 family, one run per (algorithm, seed) (see the package's docstring)."""

from __future__ import annotations

import pandas as pd

from ...shared import meta_task_family as base

ENV_NAME = "lunarlander_v3_task_family"


def make_env(params: dict) -> LunarLanderFamily:  # noqa: F821 (imported inside)
    from ...envs.lunarlander import LunarLanderFamily  # torch and Box2D load only to train

    e = dict(params["env"])
    for k in ("gravity", "wind_power"):
        if k in e:
            e[k] = tuple(e[k])
    return LunarLanderFamily(**e)


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [base.run(algo, int(s), params, "lunarlander_meta", ENV_NAME, make_env) for s in seeds]
