"""A family of CartPole tasks with physical parameters drawn per task, stepped as batched tensor code.

The dynamics are gymnasium's ``CartPole-v1`` (``gymnasium/envs/classic_control/cartpole.py``, gymnasium
1.4.0: Euler integration, tau 0.02 s, force +-10 N, gravity 9.8, termination at |x| > 2.4 or
|theta| > 12 degrees, reward 1 for every step including the terminating one, start state uniform on
[-0.05, 0.05]^4), rewritten over a leading batch shape so that every cart of every task advances in one
tensor operation. The state is kept in float64 like gymnasium's; the observation is its float32 copy (as
gymnasium returns it). ``tests/test_cartpole_meta.py`` checks it transition by transition against
gymnasium's own environment with the same parameters and actions.

A *task* is a vector ``(masscart, masspole, length)`` (``length`` is gymnasium's half pole length). Tasks
are drawn uniformly from boxes; the defaults are RLlib's ``CartPoleMassEnv`` meta-learning example ranges
for the masses (cart 0.5-2.0 kg, pole 0.05-0.2 kg) and, for the length, the same factor-2 spread around
gymnasium's default 0.5 (0.25-1.0), a CHOICE (the Directed-MAML paper's ranges could not be read).
The "medium" task of Directed-MAML is a point of this box (:meth:`CartPoleFamily.medium_task`).

Mirrored-action tasks (``flip_prob`` > 0, the family of experiment ``cartpole_flip_meta``): each task also
draws, with probability ``flip_prob``, whether its two actions are swapped (action 1 pushes left). A
policy that does not observe the task then cannot serve all tasks -- what balances the pole in one task
tips it over in its mirror -- so adaptation to the task has to do the work (the analogue of the
forward/backward tasks of Finn et al. 2017). The task vector gets a fourth entry ``flip`` in {0, 1}, drawn
after the physical parameters from the same generator, so ``flip_prob = 0`` gives exactly the tasks
(and random stream) of the plain family.

The environment holds no random state: tasks and start states come from explicit ``torch.Generator``\\ s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: order of the task parameters in a task vector
TASK_KEYS = ("masscart", "masspole", "length")


@dataclass(frozen=True)
class CartPoleFamily:
    masscart: tuple[float, float] = (0.5, 2.0)
    masspole: tuple[float, float] = (0.05, 0.2)
    length: tuple[float, float] = (0.25, 1.0)
    horizon: int = 500  # CartPole-v1's TimeLimit
    gravity: float = 9.8
    force_mag: float = 10.0
    tau: float = 0.02
    theta_threshold: float = 12 * 2 * math.pi / 360
    x_threshold: float = 2.4
    reset_bound: float = 0.05
    flip_prob: float = 0.0  # probability that a task swaps the meaning of its two actions

    obs_dim: int = 4
    n_actions: int = 2

    def __post_init__(self):
        for key in TASK_KEYS:
            lo, hi = getattr(self, key)
            if not 0 < lo <= hi:
                raise ValueError(f"env.{key}: need 0 < low <= high, got [{lo}, {hi}]")
        if self.horizon < 1:
            raise ValueError(f"env.horizon must be >= 1, got {self.horizon}")
        if not 0.0 <= self.flip_prob <= 1.0:
            raise ValueError(f"env.flip_prob must be in [0, 1], got {self.flip_prob}")

    @property
    def task_dim(self) -> int:
        """3 physical parameters, plus the ``flip`` entry where tasks may mirror their actions."""
        return len(TASK_KEYS) + (1 if self.flip_prob > 0 else 0)

    @property
    def low(self) -> torch.Tensor:
        return torch.tensor([getattr(self, k)[0] for k in TASK_KEYS], dtype=torch.float64)

    @property
    def high(self) -> torch.Tensor:
        return torch.tensor([getattr(self, k)[1] for k in TASK_KEYS], dtype=torch.float64)

    def sample_tasks(self, n: int, generator: torch.Generator, device="cpu") -> torch.Tensor:
        """``n`` tasks uniform on the parameter box, shaped (n, 3), float64."""
        if n < 1:
            raise ValueError(f"number of tasks must be >= 1, got {n}")
        u = torch.rand((n, len(TASK_KEYS)), generator=generator, dtype=torch.float64, device=device)
        tasks = self.low.to(device) + (self.high - self.low).to(device) * u
        if self.flip_prob > 0:
            flip = torch.rand((n, 1), generator=generator, dtype=torch.float64, device=device) < self.flip_prob
            tasks = torch.cat([tasks, flip.to(torch.float64)], dim=1)
        return tasks

    def medium_task(self, how: str = "mean", device="cpu") -> torch.Tensor:
        """The representative task of the distribution, shaped (3,): ``mean`` (the uniform box's mean) or
        ``geometric_mean`` (the centre of the box on a log scale)."""
        if how == "mean":
            m = 0.5 * (self.low + self.high)
        elif how == "geometric_mean":
            m = torch.sqrt(self.low * self.high)
        else:
            raise ValueError(f"directed.medium: expected 'mean' or 'geometric_mean', got {how!r}")
        if self.flip_prob > 0:  # the unmirrored task: a mixture of mirrored ones has no "medium" sign
            m = torch.cat([m, torch.zeros(1, dtype=m.dtype)])
        return m.to(device)

    def reset(self, batch_shape: tuple[int, ...], generator: torch.Generator, device="cpu") -> torch.Tensor:
        """Start states uniform on [-reset_bound, reset_bound]^4, shaped (*batch_shape, 4), float64."""
        u = torch.rand((*batch_shape, 4), generator=generator, dtype=torch.float64, device=device)
        return (2.0 * u - 1.0) * self.reset_bound

    def start(self, tasks: torch.Tensor, n_traj: int, generator: torch.Generator) -> "CartPoleBatch":
        """``n_traj`` carts per task, reset (the simulator interface of
        :func:`hrlmeta.algos.directed_maml.rollout_categorical`)."""
        return CartPoleBatch(self, self.reset((tasks.shape[0], n_traj), generator, device=tasks.device),
                             tasks[:, None, :])

    def step(self, state: torch.Tensor, action: torch.Tensor, task: torch.Tensor):
        """Advance every cart one step, exactly as gymnasium's ``CartPoleEnv.step`` (Euler).

        ``state`` (*batch, 4) float64, ``action`` (*batch) in {0, 1}, ``task`` (..., 3) broadcasting
        against ``state[..., :1]`` (e.g. (tasks, 1, 3) for states shaped (tasks, trajectories, 4)).
        Returns ``(new_state, terminated)``; the reward of every step taken is 1."""
        masscart, masspole, length = task[..., 0], task[..., 1], task[..., 2]
        if task.shape[-1] > len(TASK_KEYS):  # mirrored tasks: action 1 pushes left
            action = torch.where(task[..., 3] > 0.5, 1 - action, action)
        total_mass = masspole + masscart
        polemass_length = masspole * length
        x, x_dot, theta, theta_dot = state.unbind(-1)
        force = torch.where(action == 1, self.force_mag, -self.force_mag).to(state.dtype)
        costheta = torch.cos(theta)
        sintheta = torch.sin(theta)
        temp = (force + polemass_length * torch.square(theta_dot) * sintheta) / total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            length * (4.0 / 3.0 - masspole * torch.square(costheta) / total_mass)
        )
        xacc = temp - polemass_length * thetaacc * costheta / total_mass
        x = x + self.tau * x_dot
        x_dot = x_dot + self.tau * xacc
        theta = theta + self.tau * theta_dot
        theta_dot = theta_dot + self.tau * thetaacc
        new_state = torch.stack((x, x_dot, theta, theta_dot), dim=-1)
        terminated = (
            (x < -self.x_threshold) | (x > self.x_threshold)
            | (theta < -self.theta_threshold) | (theta > self.theta_threshold)
        )
        return new_state, terminated


class CartPoleBatch:
    """The carts of a batch of tasks: state (tasks, traj, 4) float64; finished episodes stay frozen."""

    def __init__(self, family: CartPoleFamily, state: torch.Tensor, task: torch.Tensor):
        self.family, self.state, self.task = family, state, task

    def obs(self) -> torch.Tensor:
        return self.state

    def step(self, action: torch.Tensor, alive: torch.Tensor):
        new_state, terminated = self.family.step(self.state, action, self.task)
        self.state = torch.where(alive[..., None], new_state, self.state)
        return torch.ones_like(terminated, dtype=self.state.dtype), terminated
