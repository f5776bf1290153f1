"""One-step actor-critic over primitive actions with a Boltzmann policy: the baseline ``ac_pg`` ("AC-PG")
of Bacon, Harb & Precup (2017), Four Rooms ("primitive actor-critic ... using a Boltzmann policy",
temperature 0.001, weights initialised to zero).

Algorithm (Sutton & Barto 2018, Sec. 13.5, without the I = gamma^t factor, as the paper's option-critic
updates), one run in one compiled call::

    V(s) = 0, theta(s, a) = 0
    repeat for each episode (goal g_e, start uniform over the other cells):
        until s' is the goal or the step cap:
            a ~ pi(. | s) = softmax(theta(s, .) / T);  take a, observe s', r
            delta = r + gamma V(s') - V(s)          (V(s') = 0 at the goal)
            V(s) += alpha_critic delta
            theta(s, .) += alpha_actor delta (e_a - pi(. | s))

The paper gives neither the critic (state values here) nor the learning rates (CHOICE in
config/config.yaml); the preference step drops the 1/T factor of d log pi / d theta as the option-critic
agent does (:mod:`.option_critic`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .tabular import boltzmann_probs, random_start, sample_probs


@njit(cache=True)
def run(next_k, goals, alpha_critic, alpha_actor, gamma, temperature, max_steps, seed):
    """One run over ``len(goals)`` episodes. Returns (steps, reached, V, theta)."""
    np.random.seed(seed)
    n_states, n_actions, k_slots = next_k.shape
    n_episodes = goals.shape[0]
    V = np.zeros(n_states)
    theta = np.zeros((n_states, n_actions))
    pi = np.empty(n_actions)
    steps = np.zeros(n_episodes, dtype=np.int64)
    reached = np.zeros(n_episodes, dtype=np.bool_)
    for ep in range(n_episodes):
        goal = goals[ep]
        s = random_start(n_states, goal)
        t = 0
        while True:
            boltzmann_probs(theta[s], temperature, pi)
            a = sample_probs(pi)
            s2 = next_k[s, a, int(np.random.random() * k_slots)]
            t += 1
            done = s2 == goal
            delta = (1.0 if done else gamma * V[s2]) - V[s]
            V[s] += alpha_critic * delta
            step = alpha_actor * delta
            for i in range(n_actions):
                theta[s, i] -= step * pi[i]
            theta[s, a] += step
            if done:
                reached[ep] = True
                break
            s = s2
            if t >= max_steps:
                break
        steps[ep] = t
    return steps, reached, V, theta


def train(next_k, goals, alpha_critic=0.5, alpha_actor=0.25, gamma=0.99, temperature=1e-3, max_steps=1000,
          seed=0):
    """Python entry point; ``goals``: the goal state of every episode."""
    for k, v in (("alpha_critic", alpha_critic), ("alpha_actor", alpha_actor)):
        if not 0 < v <= 1:
            raise ValueError(f"{k}={v!r} outside (0, 1]")
    if not temperature > 0:
        raise ValueError(f"temperature={temperature!r} must be > 0")
    steps, reached, V, theta = run(np.ascontiguousarray(next_k, dtype=np.int32),
                                   np.ascontiguousarray(goals, dtype=np.int64), float(alpha_critic),
                                   float(alpha_actor), float(gamma), float(temperature), int(max_steps),
                                   int(seed) % (2**32))
    return {"steps": steps, "decisions": steps.copy(), "reached": reached, "V": V, "theta": theta}
