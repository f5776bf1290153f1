"""Training of ``cartpole_meta``: the task-family harness (:func:`hrlmeta.shared.meta_task_family.run`) on
the CartPole family, one run per (algorithm, seed) (see the package's docstring)."""

from __future__ import annotations

import pandas as pd

from ...shared.meta_task_family import ENV_NAME, make_env, run


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [run(algo, int(s), params, "cartpole_meta", ENV_NAME, make_env) for s in seeds]
