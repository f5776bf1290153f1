"""A family of LunarLander tasks (gymnasium ``LunarLander-v3``, discrete actions) with gravity and wind
drawn per task.

The chapter and the Directed-MAML paper name ``LunarLander-v2``; gymnasium 1.x removed v2 (it raises a
deprecation error pointing to v3, whose changes are bug fixes of the reset and the wind's statistical
independence between episodes), so v3 is used. A task is ``(gravity, wind_power)``: gravity uniform on
[-11, -5] (gymnasium allows (-12, 0), default -10) and wind power uniform on [0, 20] (gymnasium's
recommended range) with wind enabled; turbulence power stays at its default 1.5. Both ranges are CHOICEs:
the paper's task distribution could not be read.

Box2D cannot be written as batched tensor code, so a batch is a pool of gymnasium ``LunarLander`` objects
(reused across batches: re-configured and re-seeded at every start), stepped one call per live episode;
observations and rewards are gathered into tensors for the batched policy. Every episode is seeded from
the caller's ``torch.Generator`` (terrain, initial push, wind phase), so a batch is a pure function of the
generator state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

TASK_KEYS = ("gravity", "wind_power")
_POOL: list = []


def _pool(n: int) -> list:
    from gymnasium.envs.box2d.lunar_lander import LunarLander

    while len(_POOL) < n:
        _POOL.append(LunarLander(continuous=False, enable_wind=True))
    return _POOL[:n]


@dataclass(frozen=True)
class LunarLanderFamily:
    gravity: tuple[float, float] = (-11.0, -5.0)
    wind_power: tuple[float, float] = (0.0, 20.0)
    turbulence_power: float = 1.5
    horizon: int = 1000  # LunarLander-v3's TimeLimit

    obs_dim: int = 8
    n_actions: int = 4

    def __post_init__(self):
        g0, g1 = self.gravity
        if not -12.0 < g0 <= g1 < 0.0:
            raise ValueError(f"env.gravity: need -12 < low <= high < 0, got [{g0}, {g1}]")
        w0, w1 = self.wind_power
        if not 0.0 <= w0 <= w1:
            raise ValueError(f"env.wind_power: need 0 <= low <= high, got [{w0}, {w1}]")
        if self.horizon < 1:
            raise ValueError(f"env.horizon must be >= 1, got {self.horizon}")

    @property
    def low(self) -> torch.Tensor:
        return torch.tensor([self.gravity[0], self.wind_power[0]], dtype=torch.float64)

    @property
    def high(self) -> torch.Tensor:
        return torch.tensor([self.gravity[1], self.wind_power[1]], dtype=torch.float64)

    def sample_tasks(self, n: int, generator: torch.Generator, device="cpu") -> torch.Tensor:
        if n < 1:
            raise ValueError(f"number of tasks must be >= 1, got {n}")
        u = torch.rand((n, 2), generator=generator, dtype=torch.float64, device=device)
        return self.low.to(device) + (self.high - self.low).to(device) * u

    def medium_task(self, how: str = "mean", device="cpu") -> torch.Tensor:
        if how == "mean":
            return (0.5 * (self.low + self.high)).to(device)
        if how == "geometric_mean":  # wind power may be 0: the log-scale centre of gravity's magnitude only
            m = 0.5 * (self.low + self.high)
            m[0] = -torch.sqrt(self.low[0] * self.high[0])
            return m.to(device)
        raise ValueError(f"directed.medium: expected 'mean' or 'geometric_mean', got {how!r}")

    def start(self, tasks: torch.Tensor, n_traj: int, generator: torch.Generator) -> "LunarLanderBatch":
        T = tasks.shape[0]
        seeds = torch.randint(0, 2**31 - 1, (T, n_traj), generator=generator, device=tasks.device).cpu().numpy()
        envs = _pool(T * n_traj)
        obs = np.zeros((T, n_traj, self.obs_dim))
        for k, env in enumerate(envs):
            i, j = divmod(k, n_traj)
            env.gravity = float(tasks[i, 0])
            env.wind_power = float(tasks[i, 1])
            env.turbulence_power = self.turbulence_power
            env.enable_wind = True
            obs[i, j], _ = env.reset(seed=int(seeds[i, j]))
        return LunarLanderBatch(envs, torch.as_tensor(obs, device=tasks.device), n_traj)


class LunarLanderBatch:
    def __init__(self, envs: list, obs: torch.Tensor, n_traj: int):
        self.envs, self._obs, self.n_traj = envs, obs, n_traj

    def obs(self) -> torch.Tensor:
        return self._obs

    def step(self, action: torch.Tensor, alive: torch.Tensor):
        a = action.cpu().numpy()
        live = alive.cpu().numpy()
        obs = self._obs.cpu().numpy().copy()
        rew = np.zeros(live.shape)
        term = np.zeros(live.shape, dtype=bool)
        for i, j in zip(*np.nonzero(live)):
            o, r, terminated, _, _ = self.envs[i * self.n_traj + j].step(int(a[i, j]))
            obs[i, j], rew[i, j], term[i, j] = o, r, terminated
        self._obs = torch.as_tensor(obs, device=action.device)
        return torch.as_tensor(rew, device=action.device), torch.as_tensor(term, device=action.device)
