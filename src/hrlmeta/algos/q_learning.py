"""Flat one-step Q-learning (Watkins, 1989) on the stochastic chain of Kulkarni et al. (2016), Sec. 4.1:
the paper's baseline "Q-Learning ... (without intrinsic rewards)".

Algorithm (tabular, one whole training run in one compiled call)::

    Q(s, a) = 0 for the observed state s (s1..s6; the visited-s6 flag is NOT observed) and a in {left, right}
    t = 0                                                     # environment steps so far
    repeat for each episode:
        s = s2
        until s is s1:
            eps = max(eps_end, eps_start - (eps_start - eps_end) t / anneal_steps)   # paper: 1 -> 0.1 over 50k
            a = epsilon-greedy(Q(s, .), eps)                   # greedy ties broken uniformly at random
            s' ~ P(. | s, a);  f = extrinsic reward (1 or 0.01 on entering s1, else 0);  t += 1
            Q(s, a) += alpha (f + gamma max_a' Q(s', a') - Q(s, a))   # max term = 0 when s' = s1
            s = s'

Choices: ``alpha`` and ``gamma`` are parameters (the paper gives a learning rate of 0.00025 for its
learners and no discount for this task; see config/config.yaml); ``max_steps`` is a safety cap that is
never binding here (a capped episode is reported as capped; its last update bootstraps, as
truncation is not termination). Randomness: numba's generator seeded with ``seed`` at the start.

Per episode the run returns the primitive steps, the extrinsic return, whether s6 was visited, the
number of entries into each state, and (at ``snapshots``) a copy of Q.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..envs.chain import check_params, transition
from .hdqn_tabular import _eps_greedy, linear_epsilon
from .tabular import check_snapshots


@njit(cache=True)
def run(n_states, start, p_right, reward_visited, reward_unvisited, n_episodes, alpha, gamma, eps_start,
        eps_end, anneal_steps, max_steps, seed, snapshots):
    np.random.seed(seed)
    Q = np.zeros((n_states, 2))
    steps = np.zeros(n_episodes, dtype=np.int64)
    ret = np.zeros(n_episodes)
    visited6 = np.zeros(n_episodes, dtype=np.bool_)
    capped = np.zeros(n_episodes, dtype=np.bool_)
    visits = np.zeros((n_episodes, n_states), dtype=np.int64)
    eps_log = np.zeros(n_episodes)
    Q_hist = np.empty((snapshots.shape[0], n_states, 2))
    t = 0
    ci = 0
    for ep in range(n_episodes):
        s = start
        visited = False
        k = 0
        eps_log[ep] = linear_epsilon(t, eps_start, eps_end, anneal_steps)
        while True:
            a = _eps_greedy(Q[s], linear_epsilon(t, eps_start, eps_end, anneal_steps))
            s2, visited, f, done = transition(s, a, np.random.random(), p_right, n_states, visited,
                                              reward_visited, reward_unvisited)
            t += 1
            k += 1
            visits[ep, s2] += 1
            if done:
                Q[s, a] += alpha * (f - Q[s, a])
                ret[ep] = f
                break
            best = Q[s2, 0] if Q[s2, 0] > Q[s2, 1] else Q[s2, 1]
            Q[s, a] += alpha * (gamma * best - Q[s, a])
            s = s2
            if k >= max_steps:
                capped[ep] = True
                break
        steps[ep] = k
        visited6[ep] = visited
        if ci < snapshots.shape[0] and snapshots[ci] == ep + 1:
            Q_hist[ci] = Q
            ci += 1
    return steps, ret, visited6, capped, visits, eps_log, Q, Q_hist


def train(n_episodes, alpha, gamma, eps_start=1.0, eps_end=0.1, anneal_steps=50_000, p_right=0.5,
          reward_visited=1.0, reward_unvisited=0.01, n_states=6, start=1, max_steps=100_000, seed=0,
          snapshots=()):
    """Python entry point: validates arguments, runs the compiled loop, returns a dict of arrays."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha: {alpha} is outside (0, 1]")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma: {gamma} is outside [0, 1]")
    check_params(p_right, reward_visited, reward_unvisited)
    snapshots = check_snapshots(snapshots, n_episodes)
    steps, ret, vis6, capped, visits, eps_log, Q, Q_hist = run(
        int(n_states), int(start), float(p_right), float(reward_visited), float(reward_unvisited),
        int(n_episodes), float(alpha), float(gamma), float(eps_start), float(eps_end), int(anneal_steps),
        int(max_steps), int(seed) % (2**32), snapshots)
    return {"steps": steps, "decisions": steps.copy(), "return": ret, "visited6": vis6, "capped": capped,
            "visits": visits, "epsilon": eps_log, "Q": Q, "snapshots": snapshots, "Q_snapshots": Q_hist}
