"""Torch-free analysis of ``pointmass_diayn``'s tables, shared by its measures, figures and report: the
environment's geometry (:class:`hrlmeta.envs.pointmass.PointMass` steps numpy arrays as it steps the
training's tensors), the coverage grid, the passage crossings and the random policy's end-state spread."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ...envs.pointmass import PointMass, coverage
from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
EXPERIMENT = "pointmass_diayn"
#: the evaluation mode of the claims and figures: the policy's mean action, as the authors' released code
#: evaluates and visualises skills (haarnoja/sac: RLAlgorithm(eval_deterministic=True), visualize_skills.py)
EVAL_MODE = "deterministic"
LABELS = {"diayn": "DIAYN", "random_skills": "random skills (SAC, reward 0)"}
LAYOUT_IDS = {"open": 0, "passage": 1}


def layouts(params: dict) -> list[str]:
    return list(params["env"]["layouts"])


def _run_keys(table: pd.DataFrame) -> list[str]:
    """Columns that name one trained agent: (algo, seed, layout) and its skill count where the table has it."""
    return ["algo", "seed", "layout"] + (["num_skills"] if "num_skills" in table.columns else [])


def final_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of each (algo, seed, layout, skill count)'s last evaluation point."""
    last = table.groupby(_run_keys(table))["eval_point"].transform("max")
    return table[table["eval_point"] == last]


def select_skill_count(table: pd.DataFrame, params: dict, which: str = "primary") -> int | None:
    """The skill count ``which`` names: ``primary`` = ``agent.num_skills`` (where ``params`` lacks it, the
    count of the table's first row: runs write the primary count first), ``other`` = the first of
    ``agent.other_num_skills`` (where ``params`` lacks it, the table's first other count); None where absent."""
    if which not in ("primary", "other"):
        raise ValueError(f"skill_count: expected 'primary' or 'other', got {which!r}")
    a = params["agent"]
    present = list(dict.fromkeys(int(k) for k in table["num_skills"])) if "num_skills" in table.columns else []
    primary = int(a["num_skills"]) if "num_skills" in a else (present[0] if present else None)
    if which == "primary":
        return primary
    others = ([int(k) for k in (a["other_num_skills"] or [])] if "other_num_skills" in a
              else [k for k in present if k != primary])
    return others[0] if others else None


def for_skill_count(table: pd.DataFrame, K: int | None) -> pd.DataFrame:
    """The rows of the agents trained with ``K`` skills (all rows where the table has no ``num_skills``)."""
    if "num_skills" not in table.columns:
        return table
    return table[table["num_skills"] == K]


def _episodes_subset(f: pd.DataFrame, episodes_per_skill) -> pd.DataFrame:
    if episodes_per_skill is None:
        return f
    rank = f.groupby(_run_keys(f) + ["eval_mode", "skill"]).cumcount()
    return f[rank < int(episodes_per_skill)]


def _keyed(out: dict) -> pd.Series:
    """A Series indexed by (algo, seed, layout) from ``{(algo, seed, layout): value}`` (empty ones too)."""
    names = ["algo", "seed", "layout"]
    if not out:
        return pd.Series([], dtype=float, index=pd.MultiIndex.from_tuples([], names=names))
    return pd.Series(out, dtype=float).rename_axis(names)


def end_positions(f: pd.DataFrame) -> np.ndarray:
    """Final positions (n, 2) of the episodes ``f`` (rows of a final evaluation, with trajectories)."""
    if f.empty:
        return np.zeros((0, 2))
    return np.array([[float(x[-1]), float(y[-1])] for x, y in zip(f["traj_x"], f["traj_y"])], dtype=float)


def pairwise_spread(ends: np.ndarray, skills, points: str = "episodes") -> float:
    """Spread of the skills' end states: ``episodes`` = the mean Euclidean distance between the final
    positions ``ends`` (n, 2) of every pair of episodes of *different* skills; ``skill_means`` = the mean
    distance between every pair of the skills' mean final positions. NaN with fewer than two skills."""
    ends = np.asarray(ends, dtype=float).reshape(-1, 2)
    skills = np.asarray(skills)
    if points == "skill_means":
        ids = np.unique(skills)
        ends = np.stack([ends[skills == k].mean(axis=0) for k in ids]) if len(ids) else ends[:0]
        skills = ids
    elif points != "episodes":
        raise ValueError(f"points: expected 'episodes' or 'skill_means', got {points!r}")
    d = np.sqrt(((ends[:, None, :] - ends[None, :, :]) ** 2).sum(-1))
    other = skills[:, None] != skills[None, :]
    return float(d[other].mean()) if other.any() else float("nan")


def final_spread(table: pd.DataFrame, eval_mode: str, points: str = "episodes") -> pd.Series:
    """:func:`pairwise_spread` of each (algo, seed, layout)'s final ``eval_mode`` evaluation (one skill count)."""
    f = final_rows(table)
    f = f[f["eval_mode"] == eval_mode]
    out = {key: pairwise_spread(end_positions(g), g["skill"].to_numpy(), points)
           for key, g in f.groupby(["algo", "seed", "layout"])}
    return _keyed(out)


def _per_seed_layout(s: pd.Series, algo: str, lays: list[str]) -> pd.DataFrame:
    """(seed x layout) values of ``algo`` from a Series keyed by (algo, seed, layout); empty where absent."""
    if algo not in set(s.index.get_level_values("algo")):
        return pd.DataFrame(columns=lays, dtype=float, index=pd.Index([], name="seed"))
    return s.xs(algo, level="algo").unstack("layout").reindex(columns=lays)


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
        out[key] = coverage(xy, bound, int(grid))
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


def _torch_rand(rs: np.random.RandomState, shape) -> np.ndarray:
    """``torch.rand(*shape, generator=torch.Generator().manual_seed(seed))`` (float32) without torch: torch's CPU
    generator is MT19937 seeded as RandomState(seed) seeds it, and a float32 uniform keeps the low 24 bits of
    one 32-bit draw, times 2^-24 (tests/test_diayn.py checks the equality against torch)."""
    raw = rs.randint(0, 2**32, size=int(np.prod(shape)), dtype=np.uint64)
    return ((raw & ((1 << 24) - 1)).astype(np.float64) * 2.0**-24).astype(np.float32).reshape(shape)


@functools.lru_cache(maxsize=16)
def _random_policy_spread(env: PointMass, n: int, seed: int) -> float:
    rs = np.random.RandomState(seed)
    P = env.rollout(lambda pos, t: _torch_rand(rs, (pos.shape[0], 2)) * 2 - 1, n, dtype=np.float32)
    e = P[-1].astype(np.float64)
    total = sum(float(np.sqrt(((e[i + 1:] - e[i]) ** 2).sum(1)).sum()) for i in range(n - 1))
    return 2.0 * total / (n * (n - 1))


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
