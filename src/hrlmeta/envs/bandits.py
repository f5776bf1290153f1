"""Bernoulli multi-armed bandit tasks of Duan et al. (2016), "RL^2: Fast Reinforcement Learning via Slow
Reinforcement Learning", Section 4.1 / Table 1.

A *task* is a k-armed Bernoulli bandit whose arm means are drawn i.i.d. from U[0, 1]; an agent gets ``n``
pulls per task and its score is the total reward over those pulls. Everything here is vectorised over a
batch of independent tasks: ``means`` is shaped (tasks, k).
"""

from __future__ import annotations

import numpy as np


def sample_means(rng: np.random.Generator, n_tasks: int, k: int) -> np.ndarray:
    """Arm means of ``n_tasks`` independent tasks, i.i.d. U[0, 1], shaped (n_tasks, k)."""
    if k < 2:
        raise ValueError(f"k (number of arms) must be >= 2, got {k}")
    if n_tasks < 1:
        raise ValueError(f"n_tasks must be >= 1, got {n_tasks}")
    return rng.random((n_tasks, k))


class BernoulliBandits:
    """A batch of Bernoulli bandit tasks; ``pull(actions)`` draws one reward per task."""

    def __init__(self, means: np.ndarray, rng: np.random.Generator):
        self.means = np.asarray(means, dtype=float)
        if self.means.ndim != 2:
            raise ValueError(f"means must be shaped (tasks, k), got {self.means.shape}")
        self.n_tasks, self.k = self.means.shape
        self.rng = rng
        self._rows = np.arange(self.n_tasks)
        self.best = self.means.max(axis=1)

    def pull(self, actions: np.ndarray) -> np.ndarray:
        """Rewards (0/1 floats, shaped (tasks,)) for pulling arm ``actions[i]`` in task ``i``."""
        a = np.asarray(actions)
        if a.shape != (self.n_tasks,):
            raise ValueError(f"actions must be shaped ({self.n_tasks},), got {a.shape}")
        p = self.means[self._rows, a]
        return (self.rng.random(self.n_tasks) < p).astype(float)

    def pseudo_regret(self, actions: np.ndarray) -> np.ndarray:
        """Expected regret of one pull: best arm mean minus the chosen arm's mean, per task."""
        return self.best - self.means[self._rows, np.asarray(actions)]
