"""Torch-free analysis of ``learner_checks``' tables, shared by its measures, figures and report."""

from __future__ import annotations

import pandas as pd

from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml

#: what each check vouches for: the learner, in words, and the experiments whose claims run it
LEARNERS = {
    "td3_pendulum": "TD3 (hrlmeta.algos.td3: flat TD3 and both levels of HIRO)",
    "sac_pendulum": "SAC with a fixed temperature (hrlmeta.algos.sac, as DIAYN trains it)",
    "dqn_frozenlake": "the Q-network learner of h-DQN (hrlmeta.algos.hdqn), one-hot states",
    "dqn_cartpole": "the Q-network learner of h-DQN (hrlmeta.algos.hdqn), dense input",
    "ppo_gru_cartpole": "PPO with the GRU policy of RL² (hrlmeta.algos.rl2)",
    "ppo_gru_cartpole_novel": "PPO with the GRU policy of RL² (hrlmeta.algos.rl2), velocities hidden",
    "trpo_pendulum": "TRPO as MAML's outer step runs it (hrlmeta.algos.maml), no adaptation step",
    "pg_cartpole": "the policy-gradient learner of Directed-MAML's pretrained baseline",
}


def eval_rows(table: pd.DataFrame, algo: str) -> pd.DataFrame:
    t = table[(table["algo"] == algo) & (table["phase"] == "eval")]
    return t.sort_values(["seed", "env_steps"])


def final_returns(table: pd.DataFrame, algo: str, at_steps: int | None = None, last_k: int = 1) -> pd.Series:
    """Per seed: the mean evaluation return over the last ``last_k`` evaluation points at or before
    ``at_steps`` training environment steps (all points when None)."""
    t = eval_rows(table, algo)
    if at_steps is not None:
        t = t[t["env_steps"] <= int(at_steps)]
    return t.groupby("seed")["return"].apply(lambda r: float(r.iloc[-int(last_k):].mean()))
