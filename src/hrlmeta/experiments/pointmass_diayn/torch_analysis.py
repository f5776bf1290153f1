"""The analysis of ``pointmass_diayn`` that computes with torch (as the training does): the environment's
geometry (:class:`hrlmeta.envs.pointmass.PointMass`, a torch module), the coverage grid of trajectories
(:func:`hrlmeta.envs.pointmass.coverage`), the passage crossings and the random policy's end-state spread (a
seeded torch rollout). The measures, figures and report import it where they use it."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import torch

from ...envs.pointmass import PointMass, coverage
from .analysis import _episodes_subset, _keyed, final_rows


def make_env(params: dict, layout: str) -> PointMass:
    e = dict(params["env"])
    starts = e.pop("start")
    kw = {k: v for k, v in e.items() if k != "layouts"}
    if layout in starts:
        kw["start"] = tuple(starts[layout])
    return PointMass(layout=layout, **kw)


def final_coverage(table: pd.DataFrame, grid: int, eval_mode: str, episodes_per_skill=None,
                   bound: float = 1.0) -> pd.Series:
    """Coverage of the final evaluation's trajectories, per (algo, seed, layout), on a ``grid``^2 grid,
    using the first ``episodes_per_skill`` episodes of each skill (all when None)."""
    f = _episodes_subset(final_rows(table), episodes_per_skill)
    f = f[f["eval_mode"] == eval_mode]
    out = {}
    for key, g in f.groupby(["algo", "seed", "layout"]):
        xy = np.stack([np.concatenate(g["traj_x"].to_list()), np.concatenate(g["traj_y"].to_list())], axis=1)
        out[key] = coverage(torch.as_tensor(xy), bound, int(grid))
    return _keyed(out)


def crossed_passage(table: pd.DataFrame, params: dict) -> pd.Series:
    """Passage layout, final evaluation: per (algo, seed, eval_mode), the fraction of episodes that ever
    reach the far side of the wall."""
    f = final_rows(table)
    f = f[f["layout"] == "passage"]
    if f.empty:
        return pd.Series(dtype=float)
    far = _reached_far_side(f, params)
    return far.groupby([f["algo"], f["seed"], f["eval_mode"]]).mean()


def _reached_far_side(f: pd.DataFrame, params: dict) -> pd.Series:
    """Per episode (rows of a passage-layout evaluation): whether its trajectory ever reaches the far side of
    the wall, seen from the start (the crossing rule counts x >= wall_x as the right side)."""
    env = make_env(params, "passage")
    left = env.start[0] < env.wall_x
    return f["traj_x"].map(lambda x: bool(np.any((np.asarray(x) >= env.wall_x) if left
                                                 else (np.asarray(x) < env.wall_x))))


@functools.lru_cache(maxsize=16)
def _random_policy_spread(env: PointMass, n: int, seed: int) -> float:
    gen = torch.Generator().manual_seed(seed)
    P = env.rollout(lambda pos, t: torch.rand(pos.shape[0], 2, generator=gen, dtype=pos.dtype) * 2 - 1, n)
    e = P[-1].double()
    return float(torch.cdist(e, e).sum() / (n * (n - 1)))


def random_policy_spread(params: dict, layout: str, n: int = 4096, seed: int = 0) -> float:
    """Expected distance between the final positions of two independent episodes of a uniform random policy
    (each action coordinate uniform on [-1, 1], the action box of the skills' tanh policy and the limit of the
    reward-0 agent's maximum-entropy policy) in ``layout``, from its start over its horizon: the mean over every
    pair of ``n`` seeded episodes. A property of the environment, not of any run."""
    return _random_policy_spread(make_env(params, layout), int(n), int(seed))


def passage_skills(table: pd.DataFrame, params: dict, eval_mode: str, min_episode_share: float = 0.5,
                   ) -> pd.Series:
    """Passage layout, final ``eval_mode`` evaluation (one skill count): per (algo, seed), the number of skills
    at least ``min_episode_share`` of whose episodes ever reach the far side of the wall."""
    f = final_rows(table)
    f = f[(f["layout"] == "passage") & (f["eval_mode"] == eval_mode)]
    if f.empty:
        return pd.Series(dtype=float)
    share = _reached_far_side(f, params).groupby([f["algo"], f["seed"], f["skill"]]).mean()
    return (share >= float(min_episode_share) - 1e-12).groupby(level=["algo", "seed"]).sum().astype(float)
