"""Check ``trpo_pendulum``: TRPO as MAML's outer step runs it (:mod:`hrlmeta.algos.maml`), with no adaptation
step, on gymnasium's Pendulum-v1, against MushroomRL's TRPO benchmark.

Same code path as the claims: every update is :func:`hrlmeta.algos.maml.meta_iteration` with
``adapt_steps=0`` (no pre-update batch: ``pre is None``, ``phi = theta``), exactly nav2d_finn's
``pretrained`` meta-training step: sample with :func:`~hrlmeta.algos.maml.rollout` (the batched-family
rollout 2D navigation also runs), advantages by :func:`~hrlmeta.algos.maml.process` (rllab's linear
feature baseline, discounted returns-to-go, standardised), then :func:`~hrlmeta.algos.maml.trpo_step`
(conjugate gradient on the KL's Hessian-vector products, backtracking line search). Pendulum-v1 is a
single task: the meta-batch is ``n_tasks = 1`` task of ``n_traj`` trajectories.

Environment: :class:`Pendulum`, gymnasium 1.4's ``Pendulum-v1`` (``PendulumEnv`` + ``TimeLimit`` 200)
re-written as one torch computation over a batch of episodes, in float64 like gymnasium's state (the
torque is clipped and enters the dynamics in float32, as gymnasium's float32 action does; observations
are cast to float32 as gymnasium's). ``tests/test_learner_trpo.py`` checks it against gymnasium's own
``step``: next states and observations bit for bit, rewards to 1e-9 (gymnasium squares its numpy scalars
with the C library's ``pow``/``powf``, which round differently from an exact product in the last bit for
~0.05% of torques). The episode never terminates; it is cut at 200 steps.

Evaluation (the learner's own convention here: the mean action): ``eval_episodes`` episodes of 200 steps
with the mean action (:func:`~hrlmeta.algos.maml.rollout_with_noise` with zero noise), from start states
drawn from their own stream (``eval_seed``, seed), fresh at every evaluation point; ``return`` is the mean
undiscounted return. MushroomRL's benchmark evaluates with actions sampled from the Gaussian policy.

Rows (one per evaluation point, before training and every ``eval_every`` training steps): ``iteration``,
``phase`` = ``eval``, ``env_steps``, ``return``, ``wall_s``, ``env``, and per evaluation row, over the
TRPO updates since the previous row: ``updates``, ``accepted`` (updates whose line search accepted a
step), ``kl_ratio_max`` (the largest KL(old || new) of an accepted step, measured on the update's batch,
over the trust-region bound ``max_kl``), ``surrogate_gain_min`` (the smallest decrease of the surrogate
loss of an accepted step), ``backtracks_mean`` (line-search backtracks per accepted step), and the mean
sampled-trajectory return of those updates (``return_train``). The three per-step columns are NaN where
no step was accepted (and on the row before training).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ...algos import maml as M
from ...numerics import configure_torch
from ...shared.torch_runs import device as _device
from ...shared.torch_runs import generator as _generator

ENV_ID = "Pendulum-v1"


# --------------------------------------------------------------------------------------------- environment


def _libm(torch_fn, numpy_fn, x: torch.Tensor) -> torch.Tensor:
    """``numpy_fn`` (the C library's float64 sin / cos, which gymnasium's numpy calls) on a CPU tensor; torch's
    vectorised float64 sin differs from it in the last bit for ~0.2% of angles. Other devices: ``torch_fn``."""
    if x.device.type != "cpu":
        return torch_fn(x)
    return torch.from_numpy(numpy_fn(x.detach().numpy()))


def angle_normalize(x: torch.Tensor) -> torch.Tensor:
    """gymnasium's ``((x + pi) % (2 pi)) - pi`` (numpy's floored remainder)."""
    return torch.remainder(x + math.pi, 2 * math.pi) - math.pi


@dataclass(frozen=True)
class Pendulum:
    """gymnasium's Pendulum-v1 as a batched family for :func:`hrlmeta.algos.maml.rollout` (one task).

    State ``(theta, theta_dot)`` in float64; observation ``(cos theta, sin theta, theta_dot)``; action: the
    torque, clipped to ``[-max_torque, max_torque]``; reward ``-(angle_normalize(theta)^2 + 0.1
    theta_dot^2 + 0.001 u^2)``; start uniform on ``[-pi, pi] x [-1, 1]``; never terminates, cut at
    ``horizon`` (gymnasium's ``TimeLimit``: 200)."""

    g: float = 10.0
    m: float = 1.0
    l: float = 1.0  # noqa: E741  (gymnasium's name)
    dt: float = 0.05
    max_speed: float = 8.0
    max_torque: float = 2.0
    horizon: int = 200

    obs_dim: int = 3
    act_dim: int = 1

    def __post_init__(self):
        if self.horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {self.horizon}")
        for k in ("g", "m", "l", "dt", "max_speed", "max_torque"):
            if not getattr(self, k) > 0:
                raise ValueError(f"{k} must be > 0, got {getattr(self, k)!r}")

    def sample_goals(self, n: int, generator: torch.Generator, dtype=torch.float32, device="cpu") -> torch.Tensor:
        """A single task: ``n`` empty task descriptions, shaped ``(n, 0)`` (draws nothing)."""
        return torch.zeros((n, 0), dtype=dtype, device=device)

    def reset(self, batch_shape: tuple[int, ...], dtype=torch.float32, device="cpu",
              generator: torch.Generator | None = None) -> torch.Tensor:
        """Start states ``(*batch_shape, 2)`` (float64 whatever ``dtype``): ``theta`` uniform on
        ``[-pi, pi]``, ``theta_dot`` on ``[-1, 1]`` (gymnasium's default reset), from ``generator``."""
        u = torch.rand((*batch_shape, 2), generator=generator, dtype=torch.float64, device=device)
        high = torch.tensor([math.pi, 1.0], dtype=torch.float64, device=device)
        return -high + 2.0 * high * u

    def observe(self, state: torch.Tensor) -> torch.Tensor:
        th, thdot = state[..., 0], state[..., 1]
        return torch.stack([_libm(torch.cos, np.cos, th), _libm(torch.sin, np.sin, th), thdot],
                           dim=-1).to(torch.float32)

    def step(self, state: torch.Tensor, action: torch.Tensor, goals: torch.Tensor):
        """gymnasium's ``PendulumEnv.step`` for every episode at once: ``state`` (*batch, 2) float64,
        ``action`` (*batch, 1). Returns ``(next state, reward (float64), done (all False))``."""
        th, thdot = state[..., 0], state[..., 1]
        u = torch.clamp(action[..., 0].to(torch.float32), -self.max_torque, self.max_torque)
        costs = angle_normalize(th) ** 2 + 0.1 * thdot**2 + (0.001 * (u**2)).double()
        torque = (3.0 / (self.m * self.l**2) * u).double()
        newthdot = thdot + (3 * self.g / (2 * self.l) * _libm(torch.sin, np.sin, th) + torque) * self.dt
        newthdot = torch.clamp(newthdot, -self.max_speed, self.max_speed)
        newth = th + newthdot * self.dt
        done = torch.zeros(th.shape, dtype=torch.bool, device=th.device)
        return torch.stack([newth, newthdot], dim=-1), -costs, done


# --------------------------------------------------------------------------------------------- training


def make_env(params: dict) -> Pendulum:
    return Pendulum(**params["env"])


def make_config(params: dict) -> M.MamlConfig:
    """The learner's configuration: one task per update (no meta-batch), no inner step."""
    pol, trpo = params["policy"], dict(params["trpo"])
    return M.MamlConfig(hidden=tuple(pol["hidden"]), n_tasks=1, init_log_std=float(pol["init_log_std"]), **trpo)


@torch.no_grad()
def evaluate(theta: M.Params, env: Pendulum, n_episodes: int, generator: torch.Generator) -> float:
    """Mean undiscounted return of ``n_episodes`` episodes with the mean action (zero action noise)."""
    dtype = theta["log_std"].dtype
    device = theta["log_std"].device
    goals = env.sample_goals(1, generator, dtype=dtype, device=device)
    start = env.reset((1, n_episodes), dtype=dtype, device=device, generator=generator)
    noise = torch.zeros((1, n_episodes, env.horizon, env.act_dim), dtype=dtype, device=device)
    return float(M.rollout_with_noise(env, theta, goals, noise, start).returns().double().mean())


def _step_columns(updates: list[dict], max_kl: float) -> dict:
    acc = [u for u in updates if u["backtracks"] < u["ls_max_steps"]]
    nan = float("nan")
    return {
        "updates": len(updates),
        "accepted": len(acc),
        "kl_ratio_max": max((u["kl"] / max_kl for u in acc), default=nan),
        "surrogate_gain_min": min((u["improvement"] for u in acc), default=nan),
        "backtracks_mean": (sum(u["backtracks"] for u in acc) / len(acc)) if acc else nan,
        "return_train": (sum(u["return_post"] for u in updates) / len(updates)) if updates else nan,
    }


def train_one(seed: int, params: dict) -> pd.DataFrame:
    device = _device(params)
    configure_torch(1)  # as the claims' runs: pinned kernels, deterministic algorithms, 1 intra-op thread
    env = make_env(params)
    cfg = make_config(params)
    total, every = int(params["total_steps"]), int(params["eval_every"])
    n_eval = int(params["eval_episodes"])
    theta = M.init_policy(env.obs_dim, env.act_dim, cfg.hidden, _generator(device, seed, 0), cfg.init_log_std,
                          device=device)
    gen = _generator(device, seed, 1)  # training trajectories: action noise, then start states
    eval_gen = _generator(device, int(params["eval_seed"]), seed)
    steps_per_update = cfg.n_traj * env.horizon  # Pendulum never terminates: every episode runs 200 steps
    rows, updates = [], []
    env_steps, it, next_eval = 0, 0, 0
    t0 = time.perf_counter()
    while True:
        if env_steps >= next_eval or env_steps >= total:  # the last point sits at the end of training
            wall = time.perf_counter() - t0
            ret = evaluate(theta, env, n_eval, eval_gen)
            rows.append({"iteration": it, "phase": "eval", "env_steps": int(env_steps), "return": ret,
                         "wall_s": float(wall), "env": ENV_ID, **_step_columns(updates, cfg.max_kl)})
            it, updates = it + 1, []
            next_eval += every
            t0 = time.perf_counter()
        if env_steps >= total:
            break
        theta, st = M.meta_iteration(theta, env, cfg, gen, adapt_steps=0, second_order=False)
        updates.append({**st, "ls_max_steps": cfg.ls_max_steps})
        env_steps += steps_per_update
    return pd.DataFrame(rows)


def train_batch(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed. The seeds run one after the other: a TRPO step is one parameter vector's
    (its conjugate gradient and line search do not batch over seeds)."""
    if algo != "trpo_pendulum":
        raise KeyError(f"check_trpo trains 'trpo_pendulum', not {algo!r}")
    return [train_one(int(s), params) for s in seeds]
