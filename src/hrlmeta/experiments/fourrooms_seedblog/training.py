"""Training of ``fourrooms_seedblog``: one agent of one trial of the listing's ``run_comparison`` per
(algorithm, seed), one row per episode (see the package's docstring for the columns)."""

from __future__ import annotations

import pandas as pd

from ...algos import listing_fourrooms as sb
from .analysis import ALGOS


def env_name(size: int) -> str:
    return f"seedblog_fourrooms_{size}x{size}"


def _train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    """One agent of one trial of the listing's ``run_comparison``; one row per episode."""
    p = params
    if algo not in ALGOS:
        raise KeyError(f"fourrooms_seedblog has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    if p["size"] < 5:
        raise ValueError(f"fourrooms_seedblog: params.size={p['size']} is too small for four rooms (>= 5)")
    recs = sb.run(
        algo,
        int(seed),
        num_episodes=int(p["num_episodes"]),
        size=int(p["size"]),
        alpha=float(p["alpha"]),
        gamma=float(p["gamma"]),
        epsilon=float(p["epsilon"]),
        max_steps=int(p["max_steps"]),
    )
    df = pd.DataFrame.from_records(recs).rename(columns={"ret": "return"})
    df.insert(0, "env", env_name(int(p["size"])))
    df.insert(1, "algo", algo)
    df.insert(2, "seed", int(seed))
    df["goal_in_start_room"] = (df["start_room"] == df["goal_room"]) & ~df["start_is_door"]
    ints = ["episode", "steps", "decisions", "option_exits", "first_option", "start_row", "start_col",
            "goal_row", "goal_col", "start_room", "goal_room", "final_row", "final_col"]
    df[ints] = df[ints].astype("int64")
    df["return"] = df["return"].astype("float64")
    df["ended_by"] = df["ended_by"].astype(str)
    front = ["env", "algo", "seed", "episode", "steps", "return", "success", "decisions", "ended_by"]
    return df[front + [c for c in df.columns if c not in front]]


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [_train(algo, int(s), params) for s in seeds]
