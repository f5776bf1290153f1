"""Training of ``learner_checks``: each algorithm is handed to its module ``check_<learner>.py`` in this folder
(``MODULES``), which trains the seeds of one check as one batch where its learner supports it."""

from __future__ import annotations

import importlib

import pandas as pd

from .analysis import ALGOS

#: algorithm id -> the module (in this folder) that trains it
MODULES = {
    "td3_pendulum": "check_td3",
    "sac_pendulum": "check_sac",
    "dqn_frozenlake": "check_dqn",
    "dqn_cartpole": "check_dqn",
    "ppo_gru_cartpole": "check_ppo_gru",
    "ppo_gru_cartpole_novel": "check_ppo_gru",
    "trpo_pendulum": "check_trpo",
    "pg_cartpole": "check_pg",
}


def _module(algo: str):
    if algo not in MODULES:
        raise KeyError(f"learner_checks has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    return importlib.import_module(f"{__package__}.{MODULES[algo]}")


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """The seeds of one check, trained as one batch where its learner supports it."""
    dfs = _module(algo).train_batch(algo, [int(s) for s in seeds], params[algo])
    for df in dfs:
        df["phase"] = df["phase"] if "phase" in df else "eval"
    return dfs
