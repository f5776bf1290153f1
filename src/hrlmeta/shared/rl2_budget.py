"""RL²'s training budget in one evaluation cell (shared by the bandit and tabular-MDP experiments)."""

from __future__ import annotations

import pandas as pd


def rl2_budget(eval_rows: pd.DataFrame, train_rows: pd.DataFrame, steps_per_trial: int) -> dict:
    """RL²'s training budget in one cell, for ``Samples``: ``budget`` = env steps per seed (iterations x
    trials per iteration x steps per trial, from the eval rows' ``hparam``), ``cost_s`` = measured
    training seconds per seed (sum of the meta_train rows' ``wall_s``, mean over seeds)."""
    if eval_rows.empty or not str(eval_rows["hparam"].iloc[0]).startswith("iterations="):
        return {}
    hp = dict(kv.split("=") for kv in str(eval_rows["hparam"].iloc[0]).split(","))
    out = {"budget": float(int(hp["iterations"]) * int(hp["batch_tasks"]) * int(steps_per_trial))}
    if not train_rows.empty:
        out["cost_s"] = float(train_rows.groupby("seed")["wall_s"].sum().mean())
    return out
