"""Flat goal-conditioned TD3: the HIRO paper's "No HRL" baseline (Sec. 5.2, Fig. 4).

One TD3 learner (:mod:`hrlmeta.algos.td3`) acts on (observation, task goal) and is trained on the task
reward (minus the distance to the goal, scaled by ``reward_scale``). Vectorised over ``S`` seeds and ``E``
environments per seed: arrays are (S, E, ...); one ``train_step`` = ``updates`` minibatch updates per seed.

The same agent learns a task without goals (``goal_dim = 0``, goals of shape (S, E, 0)) on the reward the
environment hands to ``record`` (``reward=``), with ``input_scale = 1`` leaving the observation unchanged:
that is how the learner checks train it on gymnasium's Pendulum-v1 through the point maze's own loop
(:func:`hrlmeta.shared.td3_rollout.rollout`).

The agent protocol shared with :mod:`hrlmeta.algos.hiro` (used by the experiment's runner):
``reset(E, explore) -> ctx``, ``act(ctx, t, obs, goal, rngs, uniform) -> actions``,
``record(ctx, t, obs, action, next_obs, goal, last, reward)`` (training; ``last``: the episode's final step;
``reward``: the environment's task reward (S, E), None = minus the distance of (x, y) to the goal),
``advance(ctx, obs, next_obs)`` (evaluation), ``train_step(rngs)``, ``decisions_per_episode(T)``, ``updates_done``.
``rngs``: one numpy Generator per seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .td3 import TD3, Replay, TD3Config


@dataclass(frozen=True)
class FlatConfig:
    td3: TD3Config = TD3Config()
    act_noise: float = 0.1  # Gaussian exploration sigma (normalised action units)
    reward_scale: float = 0.1  # CHOICE (config): the task reward scaled as for HIRO's higher level
    input_scale: float = 0.1  # positions and goals multiplied by this before entering a network
    buffer_size: int = 200_000
    updates: int = 1  # minibatch updates per seed per vectorised environment step


def net_input(obs: np.ndarray, goal: np.ndarray, scale: float) -> np.ndarray:
    """Network input [x, y, cos, sin, goal] with positions and goals multiplied by ``scale`` (the point maze;
    with ``scale`` 1 and an empty goal, any observation unchanged, as float32)."""
    return np.concatenate([obs[..., :2] * scale, obs[..., 2:], goal * scale], axis=-1).astype(np.float32)


def seed_normal(shape, rngs: list[np.random.Generator]) -> np.ndarray:
    """(S, *shape) standard normal draws, seed ``s`` from ``rngs[s]`` alone."""
    return np.stack([r.standard_normal(shape) for r in rngs])


def seed_uniform(low, high, shape, rngs: list[np.random.Generator]) -> np.ndarray:
    return np.stack([r.uniform(low, high, size=shape) for r in rngs])


def explore(actions: np.ndarray, sigma: float, rngs: list[np.random.Generator]) -> np.ndarray:
    """Gaussian exploration around deterministic actions (S, E, a), clipped to the action box [-1, 1]."""
    return np.clip(actions + sigma * seed_normal(actions.shape[1:], rngs), -1.0, 1.0)


class FlatTD3:
    name = "td3"

    def __init__(self, obs_dim: int, goal_dim: int, act_dim: int, cfg: FlatConfig, gens: list[torch.Generator],
                 device: str = "cpu"):
        self.cfg = cfg
        self.device = device
        self.act_dim = act_dim
        self.S = len(gens)
        in_dim = obs_dim + goal_dim
        self.td3 = TD3(in_dim, act_dim, cfg.td3, gens, device)
        self.buffer = Replay(self.S, cfg.buffer_size, {"obs": (in_dim,), "act": (act_dim,), "rew": (),
                                                       "next_obs": (in_dim,), "disc": ()})
        self.updates_done = 0

    def decisions_per_episode(self, horizon: int) -> int:
        return horizon

    def reset(self, n: int, explore: bool) -> dict:
        return {"explore": explore}

    def act(self, ctx: dict, t: int, obs, goal, rngs, uniform: bool = False) -> np.ndarray:
        if uniform:
            return seed_uniform(-1.0, 1.0, (obs.shape[1], self.act_dim), rngs)
        a = self.td3.act(net_input(obs, goal, self.cfg.input_scale))
        return explore(a, self.cfg.act_noise, rngs) if ctx["explore"] else a

    def advance(self, ctx: dict, obs, next_obs) -> None:
        """Nothing to carry between steps (the hierarchical agents move their subgoal here)."""

    def record(self, ctx: dict, t: int, obs, action, next_obs, goal, last: bool = False, reward=None) -> None:
        task = -np.linalg.norm(next_obs[..., :2] - goal, axis=-1) if reward is None else np.asarray(reward)
        r = task * self.cfg.reward_scale
        s = self.cfg.input_scale
        # CHOICE: an episode's end is a time limit (the maze's 500 steps, Pendulum-v1's 200), not a terminal state:
        # always bootstrap (discount 1)
        self.buffer.add(obs=net_input(obs, goal, s), act=action, rew=r, next_obs=net_input(next_obs, goal, s),
                        disc=np.ones(r.shape))

    def train_step(self, rngs) -> None:
        if self.buffer.size < self.cfg.td3.batch_size:
            return
        for _ in range(self.cfg.updates):
            b = self.buffer.sample(self.cfg.td3.batch_size, rngs, self.device)
            self.td3.update(b["obs"], b["act"], b["rew"], b["next_obs"], b["disc"])
            self.updates_done += 1
