"""Flat Q-learning on the Taxi domain with the exploration schedule of Dietterich (2000), Sec. 7.1
("flat Q learning: initial Q values of 0.123, learning rate 0.25, and Boltzmann exploration with an
initial temperature of 50 and a cooling rate of 0.9879"), undiscounted.

Algorithm (one whole run of ``n_steps`` primitive steps in one compiled call)::

    Q(s, a) = q_init for all s, a;  T = T0
    repeat for each episode (trial):
        s ~ start distribution
        until the passenger is delivered:
            a ~ Boltzmann(Q(s, .), T)
            s', r = step(s, a)
            Q(s, a) += alpha * (r + gamma * max_a' Q(s', a') - Q(s, a))   # max term = 0 when s' is terminal
            s = s'
        T = max(T * cooling, T_floor)        # the root task terminated in its goal state

Choices: the temperature is cooled once per delivered episode (the paper cools each Max node's temperature
"each time that subtask terminates in a goal state"; flat Q has one node, the whole task). ``t_floor``
keeps the temperature positive (the paper's exploration "effectively halted" at T = 0.1). A run stops at the
first episode end at or after ``n_steps`` primitive steps; ``max_episode_steps`` is a safety cap per episode
(a capped episode is reported with ``success = False``; its last transition is not treated as terminal).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..envs.taxi import step
from .boltzmann import boltzmann


@njit(cache=True)
def run(move_k, landmark_cell, cell_landmark, rewards, fickle_prob, drop_elsewhere, start_states,
        n_steps, max_episodes, max_episode_steps, alpha, gamma, q_init, t0, cooling, t_floor, seed):
    """Returns (steps[e], returns[e], success[e], Q) for the episodes played."""
    np.random.seed(seed)
    Q = np.full((500, 6), q_init)
    steps = np.zeros(max_episodes, dtype=np.int64)
    rets = np.zeros(max_episodes)
    succ = np.zeros(max_episodes, dtype=np.bool_)
    temp = t0
    total = 0
    ep = 0
    while total < n_steps and ep < max_episodes:
        s = start_states[int(np.random.random() * start_states.shape[0])]
        pending = False
        t = 0
        g = 0.0
        while True:
            a = boltzmann(Q[s], 6, temp)
            s2, r, done, pending = step(s, a, pending, move_k, landmark_cell, cell_landmark, rewards,
                                        fickle_prob, drop_elsewhere)
            t += 1
            g += r
            if done:
                Q[s, a] += alpha * (r - Q[s, a])
                succ[ep] = True
                break
            best = Q[s2, 0]
            for b in range(1, 6):
                if Q[s2, b] > best:
                    best = Q[s2, b]
            Q[s, a] += alpha * (r + gamma * best - Q[s, a])
            s = s2
            if t >= max_episode_steps:
                break
        if succ[ep]:
            temp = max(temp * cooling, t_floor)
        steps[ep] = t
        rets[ep] = g
        total += t
        ep += 1
    return steps[:ep], rets[:ep], succ[:ep], Q
