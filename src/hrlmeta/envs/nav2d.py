"""2D point navigation of Finn, Abbeel & Levine (2017), "Model-Agnostic Meta-Learning for Fast Adaptation
of Deep Networks", Section 5.3 ("2D Navigation"), as released in ``cbfinn/maml_rl``
(``PointEnvRandGoal`` wrapped by rllab's ``normalize``).

A *task* is a goal position drawn uniformly from the square ``[goal_low, goal_high]^2`` (the paper's unit
square ``[-0.5, 0.5]^2``). The point starts at the origin; the observation is its 2D position; an action
is a velocity command. Reward per step: minus the Euclidean distance between the new position and the
goal. An episode ends at the horizon (100) or when the point is within ``success_tol`` of the goal in
*both* coordinates (the released code's ``abs(x) < 0.01 and abs(y) < 0.01``).

Action units. The paper says velocity commands are "clipped to be in the range [-0.1, 0.1]". The released
code wraps the environment in rllab's ``normalize``, which maps the policy's action ``a`` from [-1, 1]
onto the box [-0.1, 0.1] (``lb + (a + 1) (ub - lb) / 2``, i.e. ``0.1 a`` here) and then clips to the box.
``action_scale`` reproduces that (0.1: the released code; 1.0: clip the raw action, as the PyTorch port
``tristandeleu/pytorch-maml-rl`` does). Log-likelihoods are always of the *unclipped* policy sample.

Everything is a batched torch computation over a leading batch shape (tasks x trajectories): ``reset``
returns positions shaped ``(*batch, 2)`` and ``step`` advances every point at once. The environment holds
no random state: goals come from :func:`sample_goals` with an explicit ``torch.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Nav2D:
    """Parameters of the 2D navigation task family (defaults: Finn et al. 2017)."""

    goal_low: float = -0.5
    goal_high: float = 0.5
    action_bound: float = 0.1  # velocity commands clipped to [-bound, bound] per coordinate
    action_scale: float = 0.1  # rllab normalize: env action = clip(action_scale * a, -bound, bound)
    horizon: int = 100
    success_tol: float = 0.01  # done when |x - gx| < tol and |y - gy| < tol

    obs_dim: int = 2
    act_dim: int = 2

    def __post_init__(self):
        if not self.goal_low < self.goal_high:
            raise ValueError(f"goal_low ({self.goal_low}) must be < goal_high ({self.goal_high})")
        if self.action_bound <= 0:
            raise ValueError(f"action_bound must be > 0, got {self.action_bound}")
        if self.action_scale <= 0:
            raise ValueError(f"action_scale must be > 0, got {self.action_scale}")
        if self.horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {self.horizon}")
        if self.success_tol < 0:
            raise ValueError(f"success_tol must be >= 0, got {self.success_tol}")

    def sample_goals(self, n: int, generator: torch.Generator, dtype=torch.float32, device="cpu") -> torch.Tensor:
        """``n`` goals i.i.d. uniform on the square, shaped (n, 2)."""
        if n < 1:
            raise ValueError(f"number of goals must be >= 1, got {n}")
        u = torch.rand((n, 2), generator=generator, dtype=dtype, device=device)
        return self.goal_low + (self.goal_high - self.goal_low) * u

    def reset(self, batch_shape: tuple[int, ...], dtype=torch.float32, device="cpu",
              generator: torch.Generator | None = None) -> torch.Tensor:
        """Start positions (the origin), shaped ``(*batch_shape, 2)``. ``generator`` is not used (the start
        is fixed); it is part of the batched-family interface of :func:`hrlmeta.algos.maml.rollout`."""
        return torch.zeros((*batch_shape, 2), dtype=dtype, device=device)

    def step(self, pos: torch.Tensor, action: torch.Tensor, goals: torch.Tensor):
        """Advance every point one step.

        ``pos``, ``action``: ``(*batch, 2)``; ``goals`` broadcasts against them (e.g. ``(tasks, 1, 2)``).
        Returns ``(new_pos, reward, done)`` with ``reward`` and ``done`` shaped ``batch``.
        """
        velocity = torch.clamp(self.action_scale * action, -self.action_bound, self.action_bound)
        new_pos = pos + velocity
        delta = new_pos - goals
        reward = -torch.linalg.vector_norm(delta, dim=-1)
        done = (delta.abs() < self.success_tol).all(dim=-1)
        return new_pos, reward, done
