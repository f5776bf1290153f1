"""SARSA(0) with Boltzmann exploration and no eligibility traces: the primitive baseline ``sarsa0`` of
Bacon, Harb & Precup (2017), Four Rooms ("a primitive SARSA agent using Boltzmann exploration and no
eligibility traces ... temperature 0.001 ... all the weights were initialized to zero").

Algorithm (Rummery & Niranjan 1994; Sutton & Barto 2018, Sec. 6.4), one run in one compiled call::

    Q(s, a) = 0
    repeat for each episode (goal g_e, start uniform over the other cells):
        a ~ softmax(Q(s, .) / T)
        until s' is the goal or the step cap:
            take a, observe s', r (1 at the goal, else 0)
            if s' is the goal: Q(s, a) += alpha (r - Q(s, a)); stop
            a' ~ softmax(Q(s', .) / T);  Q(s, a) += alpha (r + gamma Q(s', a') - Q(s, a));  s, a = s', a'

The learning rate is not given in the paper (CHOICE in config/config.yaml).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .tabular import boltzmann_probs, random_start, sample_probs


@njit(cache=True)
def run(next_k, goals, alpha, gamma, temperature, max_steps, seed):
    """One run over ``len(goals)`` episodes. Returns (steps, reached, Q)."""
    np.random.seed(seed)
    n_states, n_actions, k_slots = next_k.shape
    n_episodes = goals.shape[0]
    Q = np.zeros((n_states, n_actions))
    pi = np.empty(n_actions)
    steps = np.zeros(n_episodes, dtype=np.int64)
    reached = np.zeros(n_episodes, dtype=np.bool_)
    for ep in range(n_episodes):
        goal = goals[ep]
        s = random_start(n_states, goal)
        boltzmann_probs(Q[s], temperature, pi)
        a = sample_probs(pi)
        t = 0
        while True:
            s2 = next_k[s, a, int(np.random.random() * k_slots)]
            t += 1
            if s2 == goal:
                Q[s, a] += alpha * (1.0 - Q[s, a])
                reached[ep] = True
                break
            boltzmann_probs(Q[s2], temperature, pi)
            a2 = sample_probs(pi)
            Q[s, a] += alpha * (gamma * Q[s2, a2] - Q[s, a])
            s = s2
            a = a2
            if t >= max_steps:
                break
        steps[ep] = t
    return steps, reached, Q


def train(next_k, goals, alpha=0.5, gamma=0.99, temperature=1e-3, max_steps=1000, seed=0):
    """Python entry point; ``goals``: the goal state of every episode."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha={alpha!r} outside (0, 1]")
    if not temperature > 0:
        raise ValueError(f"temperature={temperature!r} must be > 0")
    steps, reached, Q = run(np.ascontiguousarray(next_k, dtype=np.int32),
                            np.ascontiguousarray(goals, dtype=np.int64), float(alpha), float(gamma),
                            float(temperature), int(max_steps), int(seed) % (2**32))
    return {"steps": steps, "decisions": steps.copy(), "reached": reached, "Q": Q}
