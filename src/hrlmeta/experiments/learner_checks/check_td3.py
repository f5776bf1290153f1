"""Learner check ``td3_pendulum``: TD3 (:mod:`hrlmeta.algos.td3`), the learner of flat TD3 and of both levels
of HIRO in ``pointmaze_hiro``, on gymnasium's Pendulum-v1, against MushroomRL's published TD3 benchmark.

One code path with the claims: the agent is :class:`hrlmeta.algos.flat_td3.FlatTD3` (its
:class:`~hrlmeta.algos.td3.TD3` update, :class:`~hrlmeta.algos.td3.Replay` and Gaussian exploration
:func:`~hrlmeta.algos.flat_td3.explore`), built through ``pointmaze_hiro``'s own TD3 configuration
(:func:`hrlmeta.shared.td3_rollout.td3_config`), and every episode runs through ``pointmaze_hiro``'s
training loop :func:`hrlmeta.shared.td3_rollout.rollout` (act, step, record, one update per seed per
step). What differs from the maze is only the task: Pendulum has no goal (goals of shape (S, n, 0)), its
observation (cos th, sin th, th_dot) enters the networks unchanged (``input_scale`` 1), its reward is the
environment's own (``record(..., reward=)``), and the actor's output in [-1, 1] is scaled to the torque range
[-2, 2]. ``S`` seeds train as one batch, one Pendulum per seed.

:class:`PendulumTask` is gymnasium's ``Pendulum-v1`` (gymnasium 1.4.0, ``classic_control/pendulum.py``)
vectorised in numpy over seeds and environments: the same expressions on the same float64 state, the same
``np_random.uniform(low=-(pi, 1), high=(pi, 1))`` start draw per environment, the same float32 observation
and the 200-step time limit (``max_episode_steps``) as the episode length; ``tests/test_learner_td3.py``
checks it against ``gymnasium.make("Pendulum-v1")`` step by step, bit for bit.

Evaluation (MushroomRL's convention: the deterministic policy, ``n_episodes_test`` fresh episodes): every
``eval_every`` training steps, ``eval_episodes`` episodes of the deterministic actor (no exploration noise)
from start states drawn from a generator of (seed, 2, evaluation index); ``return`` is their mean
undiscounted return (200 steps).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ...algos.flat_td3 import FlatConfig, FlatTD3
from ...shared.torch_runs import device as _device
from ...shared.torch_runs import generator as _generator
from ...shared.td3_rollout import rollout, td3_config

ENV_ID = "Pendulum-v1"


class PendulumTask:
    """gymnasium's Pendulum-v1 for S seeds of n environments (arrays (S, n, ...)) in :func:`rollout`'s task
    protocol: state (theta, theta_dot) float64, actions in [-1, 1] times ``max_torque``, reward
    ``-(angle_normalize(theta)^2 + 0.1 theta_dot^2 + 0.001 u^2)`` of the state before the step."""

    max_speed = 8
    max_torque = 2.0
    dt = 0.05
    g = 10.0
    m = 1.0
    l = 1.0  # noqa: E741 (gymnasium's name)
    obs_dim = 3
    act_dim = 1
    horizon = 200  # gymnasium.make("Pendulum-v1"): TimeLimit max_episode_steps=200
    high = np.array([np.pi, 1.0])  # reset: theta ~ U(-pi, pi), theta_dot ~ U(-1, 1) (DEFAULT_X, DEFAULT_Y)

    def reset(self, n: int, rngs) -> np.ndarray:
        """(S, n, 2) start states; environment i of seed s draws ``rngs[s].uniform(low=-high, high=high)`` as
        gymnasium's reset draws from its ``np_random``, environments in order."""
        return np.stack([np.stack([r.uniform(low=-self.high, high=self.high) for _ in range(n)]) for r in rngs])

    @staticmethod
    def observe(state: np.ndarray) -> np.ndarray:
        th, thdot = state[..., 0], state[..., 1]
        return np.stack([np.cos(th), np.sin(th), thdot], axis=-1).astype(np.float32)

    def torque(self, action: np.ndarray) -> np.ndarray:
        """Normalised actions (S, n, 1) -> the torque gymnasium receives, (S, n, 1)."""
        return np.asarray(action, dtype=np.float64) * self.max_torque

    def step(self, state: np.ndarray, action: np.ndarray, goals=None) -> tuple[np.ndarray, np.ndarray]:
        th, thdot = state[..., 0], state[..., 1]
        g, m, l, dt = self.g, self.m, self.l, self.dt
        u = np.clip(self.torque(action), -self.max_torque, self.max_torque)[..., 0]
        costs = _sq(angle_normalize(th)) + 0.1 * _sq(thdot) + 0.001 * _sq(u)
        newthdot = thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l**2) * u) * dt
        newthdot = np.clip(newthdot, -self.max_speed, self.max_speed)
        newth = th + newthdot * dt
        return np.stack([newth, newthdot], axis=-1), -costs


def angle_normalize(x):
    return ((x + np.pi) % (2 * np.pi)) - np.pi


def _sq(x: np.ndarray) -> np.ndarray:
    """``x ** 2`` as gymnasium computes it on numpy float64 scalars (libm's ``pow``). numpy squares an array
    with a scalar exponent 2 as ``x * x``, which differs in the last bit for about 0.1% of values; an
    exponent array keeps numpy's elementwise ``pow``."""
    return np.power(x, np.full_like(x, 2.0))


def make_agent(p: dict, gens, device: str) -> FlatTD3:
    """Flat TD3 on Pendulum's observation, no goal, the environment's reward, ``p`` the algorithm's block."""
    cfg = FlatConfig(td3=td3_config(p), act_noise=float(p["act_noise"]), reward_scale=float(p["reward_scale"]),
                     input_scale=1.0, buffer_size=int(p["replay_size"]), updates=int(p["updates"]))
    return FlatTD3(PendulumTask.obs_dim, 0, PendulumTask.act_dim, cfg, gens, device)


def schedule(p: dict) -> dict:
    H = PendulumTask.horizon
    total, every, k = int(p["total_steps"]), int(p["eval_every"]), int(p["eval_episodes"])
    for key, v in (("total_steps", total), ("eval_every", every)):
        if v < H or v % H:
            raise ValueError(f"td3_pendulum.{key}: {v} is not a positive multiple of the episode length {H}")
    if k < 1:
        raise ValueError(f"td3_pendulum.eval_episodes: must be >= 1, got {k}")
    return {"total": total, "every": every, "episodes": k, "warmup": int(p["warmup_steps"])}


def train_batch(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """TD3 on Pendulum-v1 for ``seeds`` as one batch; one table per seed (a row per evaluation point)."""
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: expected distinct seeds, got {seeds}")
    p = params
    device = _device(p)
    sc = schedule(p)
    task = PendulumTask()
    H, S, K = task.horizon, len(seeds), sc["episodes"]
    gens = [_generator(device, s, 0) for s in seeds]  # networks and target-smoothing noise, one per seed
    agent = make_agent(p, gens, device)
    rngs = [np.random.default_rng([s, 1]) for s in seeds]  # training starts, exploration noise, minibatches
    no_goal = np.zeros((S, 1, 0))
    rows: list[list[dict]] = [[] for _ in seeds]
    train_returns: list[np.ndarray] = []

    def evaluate(it: int, steps: int, wall: float) -> None:
        erngs = [np.random.default_rng([s, 2, it]) for s in seeds]
        _, ret, _, _ = rollout(agent, task, np.zeros((S, K, 0)), H, erngs, train=False)
        tr = np.concatenate(train_returns, axis=1) if train_returns else np.full((S, 0), np.nan)
        for j in range(S):
            rows[j].append({"iteration": it, "phase": "eval", "env_steps": steps, "return": float(ret[j].mean()),
                            "return_std": float(ret[j].std()), "return_min": float(ret[j].min()),
                            "train_return": float(tr[j].mean()) if tr.shape[1] else np.nan,
                            "updates": int(agent.updates_done), "wall_s": wall, "env": ENV_ID})
        train_returns.clear()

    steps, it = 0, 0
    evaluate(0, 0, 0.0)
    t0 = time.perf_counter()
    while steps < sc["total"]:
        _, ret, steps, _ = rollout(agent, task, no_goal, H, rngs, train=True, uniform_until=sc["warmup"],
                                   steps_done=steps)
        train_returns.append(ret)
        if steps % sc["every"] == 0 or steps >= sc["total"]:
            it += 1
            wall = time.perf_counter() - t0
            evaluate(it, steps, wall)
            t0 = time.perf_counter()
    return [pd.DataFrame(r) for r in rows]
