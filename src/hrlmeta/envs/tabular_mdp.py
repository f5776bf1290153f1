"""Random tabular MDPs of Duan et al. (2016), "RL^2", Section 4.2 / Table 2.

A *task* is a finite MDP with |S| states and |A| actions: mean rewards mu(s, a) ~ N(1, 1), observed
rewards r ~ N(mu(s, a), 1), transition rows P(. | s, a) ~ Dirichlet(1, ..., 1) (flat). An episode lasts
``horizon`` steps (T = 10 in the paper) and starts in state 0 (CHOICE: the paper does not name the start
state; state 0 is what the TabulaRL environment the authors' baselines ran on does). A trial is ``n``
episodes of the same MDP. Everything is vectorised over a batch of independent tasks.
"""

from __future__ import annotations

import numpy as np


def sample_mdps(rng: np.random.Generator, n_tasks: int, n_states: int = 10, n_actions: int = 5,
                reward_mean: float = 1.0, reward_mean_std: float = 1.0, dirichlet_alpha: float = 1.0):
    """Mean rewards R (tasks, S, A) and transition kernels P (tasks, S, A, S) of ``n_tasks`` MDPs."""
    if n_states < 1 or n_actions < 1 or n_tasks < 1:
        raise ValueError(f"need n_tasks, n_states, n_actions >= 1, got {n_tasks}, {n_states}, {n_actions}")
    R = reward_mean + reward_mean_std * rng.standard_normal((n_tasks, n_states, n_actions))
    P = rng.dirichlet(np.full(n_states, dirichlet_alpha), size=(n_tasks, n_states, n_actions))
    return R, P


def finite_horizon_q(R: np.ndarray, P: np.ndarray, horizon: int) -> np.ndarray:
    """Optimal finite-horizon Q values by backward induction, batched.

    ``R`` (..., S, A), ``P`` (..., S, A, S). Returns Q shaped (horizon, ..., S, A): Q[h] is the value of
    taking a in s with ``horizon - h`` steps to go, then acting optimally.
    """
    Q = np.empty((horizon,) + R.shape)
    V = np.zeros(R.shape[:-1])
    for h in range(horizon - 1, -1, -1):
        Q[h] = R + np.einsum("...sat,...t->...sa", P, V)
        V = Q[h].max(axis=-1)
    return Q


class TabularMDPs:
    """A batch of tabular MDP tasks, stepped in lockstep; episodes restart in ``initial_state``."""

    def __init__(self, R: np.ndarray, P: np.ndarray, horizon: int, rng: np.random.Generator,
                 reward_std: float = 1.0, initial_state: int = 0):
        self.R, self.P = np.asarray(R, float), np.asarray(P, float)
        self.n_tasks, self.n_states, self.n_actions = self.R.shape
        self.horizon, self.rng, self.reward_std = int(horizon), rng, float(reward_std)
        self.initial_state = int(initial_state)
        self._rows = np.arange(self.n_tasks)
        self._cdf = np.cumsum(self.P, axis=-1)
        self.state = np.full(self.n_tasks, self.initial_state)
        self.t = 0

    def reset(self) -> np.ndarray:
        """Start a new episode in every task; returns the states."""
        self.state = np.full(self.n_tasks, self.initial_state)
        self.t = 0
        return self.state.copy()

    def step(self, actions: np.ndarray):
        """Returns (next states, rewards, done) -- done is True at the episode's last step."""
        a = np.asarray(actions)
        s = self.state
        r = self.R[self._rows, s, a] + self.reward_std * self.rng.standard_normal(self.n_tasks)
        u = self.rng.random(self.n_tasks)[:, None]
        nxt = (u > self._cdf[self._rows, s, a]).sum(axis=1)
        nxt = np.minimum(nxt, self.n_states - 1)
        self.state = nxt
        self.t += 1
        return nxt.copy(), r, self.t >= self.horizon
