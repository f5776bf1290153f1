"""Flat one-step Q-learning over primitive actions (Watkins, 1989), the baseline "A" of Sutton, Precup &
Singh (1999), Section 3.2 / Fig. 5.

Algorithm (tabular, one whole training run of ``n_episodes`` episodes in one compiled call)::

    Q(s, a) = 0 for all s, a
    repeat for each episode:
        s = start
        until s is the goal (or the per-episode step cap is hit):
            a = epsilon-greedy(Q(s, .))         # greedy ties broken uniformly at random
            s' ~ P(. | s, a);  r = 1 if s' is the goal else 0
            Q(s, a) += alpha * (r + gamma * max_a' Q(s', a') - Q(s, a))   # max term = 0 at the goal
            s = s'

Choices
-------
* epsilon-greedy as in the paper: with probability epsilon a uniformly random action, otherwise one of
  the actions of maximal value chosen uniformly at random ("selected at random from among those with
  maximal option value"). With Q initialised to 0 the first episodes are therefore random walks.
* The goal is terminal (its value is 0); reaching it ends the episode.
* ``max_steps``: a safety cap on an episode's length (the paper has none). A capped episode is reported
  with ``reached = False`` and its last transition is updated normally (truncation is not treated as
  termination).
* Randomness: numba's own generator, seeded with ``seed`` at the start of the call, so a run is a pure
  function of its arguments.

The environment is given as integer tables (see :mod:`hrlmeta.envs.fourrooms`): ``next_k[s, a, k]`` is
the successor for the k-th of K equiprobable outcomes, so one uniform draw samples a move exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .tabular import check_snapshots, greedy


@njit(cache=True)
def run(next_k, start, goal, n_episodes, alpha, gamma, epsilon, max_steps, seed, q_init, snapshots):
    """One training run. Returns (steps[e], reached[e], Q, Q_hist) -- Q is (S, A), a copy of ``q_init``
    updated; ``Q_hist[i]`` is Q after episode ``snapshots[i]`` (1-based, increasing).

    ``next_k``: (S, A, K) int32 sampling table; ``start``/``goal``: state indices.
    """
    np.random.seed(seed)
    n_states, n_actions, k_slots = next_k.shape
    Q = q_init.copy()
    steps = np.zeros(n_episodes, dtype=np.int64)
    reached = np.zeros(n_episodes, dtype=np.bool_)
    Q_hist = np.empty((snapshots.shape[0], Q.shape[0], Q.shape[1]))
    ci = 0
    for ep in range(n_episodes):
        s = start
        t = 0
        while True:
            if np.random.random() < epsilon:
                a = int(np.random.random() * n_actions)
            else:
                a = greedy(Q[s])
            s2 = next_k[s, a, int(np.random.random() * k_slots)]
            t += 1
            if s2 == goal:
                Q[s, a] += alpha * (1.0 - Q[s, a])
                reached[ep] = True
                break
            best = Q[s2, 0]
            for b in range(1, n_actions):
                if Q[s2, b] > best:
                    best = Q[s2, b]
            Q[s, a] += alpha * (gamma * best - Q[s, a])
            s = s2
            if t >= max_steps:
                break
        steps[ep] = t
        if ci < snapshots.shape[0] and snapshots[ci] == ep + 1:
            Q_hist[ci] = Q
            ci += 1
    return steps, reached, Q, Q_hist


def train(next_k, start, goal, n_episodes, alpha, gamma=0.9, epsilon=0.1, max_steps=100_000, seed=0,
          q_init=None, snapshots=()):
    """Python entry point: validates arguments and calls the compiled run.

    Returns a dict with ``steps``, ``decisions`` (= steps), ``reached`` (per episode), ``Q`` and
    ``Q_snapshots[i]``, the table after episode ``snapshots[i]`` (1-based).
    """
    next_k = np.ascontiguousarray(next_k, dtype=np.int32)
    n_states, n_actions, _ = next_k.shape
    if not 0 <= start < n_states or not 0 <= goal < n_states:
        raise ValueError(f"start={start} / goal={goal} outside 0..{n_states - 1}")
    if q_init is None:
        q_init = np.zeros((n_states, n_actions))
    snapshots = check_snapshots(snapshots, n_episodes)
    steps, reached, Q, Q_hist = run(next_k, int(start), int(goal), int(n_episodes), float(alpha),
                                    float(gamma), float(epsilon), int(max_steps), int(seed) % (2**32),
                                    np.ascontiguousarray(q_init, dtype=np.float64), snapshots)
    return {"steps": steps, "decisions": steps.copy(), "reached": reached, "Q": Q,
            "snapshots": snapshots, "Q_snapshots": Q_hist}
