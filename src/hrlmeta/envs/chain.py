"""The discrete stochastic decision process of Kulkarni, Narasimhan, Saeedi & Tenenbaum (2016),
"Hierarchical Deep Reinforcement Learning: Integrating Temporal Abstraction and Intrinsic Motivation",
NeurIPS, Section 4.1 and Fig. 2 (a modified version of the chain MDP of Osband et al. 2016).

The process (as the paper states it)
------------------------------------
* "There are 6 possible states and the agent always starts at s2." States s1..s6 are indices 0..5 here.
* "The agent moves left deterministically when it chooses *left* action; but the action *right* only
  succeeds 50% of the time, resulting in a left move otherwise."
* "The terminal state is s1 and the agent receives the reward of 1 when it first visits s6 and then s1.
  The reward for going to s1 without visiting s6 is 0.01" (Fig. 2: r = 1 vs r = 1/100). Every other
  transition pays 0.

Not stated in the paper, chosen here (parameters where it matters):
* *right* at s6: with probability ``p_right`` the move "succeeds" and bumps into the end of the chain, so
  the agent stays at s6; otherwise it moves left to s5 (the same failure as everywhere else).
* No step cap: every action moves left with probability >= 1 - p_right > 0, so s1 is reached with
  probability 1 under every policy. The agents take a ``max_steps`` safety cap that is never binding.
* The reward depends on the history (was s6 visited?), so the process is Markov only on the augmented
  state (s, visited-s6). The agents observe s alone, as in the paper; the oracle solves the augmented
  process exactly.

Exact evaluation
----------------
:func:`hrlmeta.experiments.chain_hdqn.oracle.value_iteration` solves the augmented process (12 states) for the optimal expected return;
:func:`hrlmeta.experiments.chain_hdqn.oracle.closed_form_return` is the hand-derived value of "go right until s6, then left" (gambler's ruin);
:func:`flat_policy_return` and :func:`hier_policy_return` give the exact expected return of a (possibly
stochastic) memoryless flat policy pi(a | s), and of a two-level policy (meta-controller mu(g | s),
controller pi(a | s, g), the goal held until reached), by one linear solve each.
"""

from __future__ import annotations

import numpy as np
from numba import njit

N_STATES = 6
N_ACTIONS = 2
LEFT, RIGHT = 0, 1
START = 1  # s2
TERMINAL = 0  # s1
ENV_NAME = "StochasticChain6-KulkarniEtAl2016"


def check_params(p_right: float, reward_visited: float, reward_unvisited: float) -> None:
    """ValueError naming the key for values outside their range."""
    if not 0.0 <= float(p_right) < 1.0:
        raise ValueError(f"p_right: {p_right} is outside [0, 1) (a probability; at 1 'right' never leaves s6 "
                         "and episodes need not end)")
    for key, v in (("reward_visited", reward_visited), ("reward_unvisited", reward_unvisited)):
        if not np.isfinite(v):
            raise ValueError(f"{key}: {v} is not a finite number")


@njit(cache=True)
def step(s, a, u, p_right, n_states):
    """Next state from s under action a, with u ~ U[0, 1) deciding whether *right* succeeds."""
    if a == 1 and u < p_right:
        return s + 1 if s + 1 < n_states else s
    return s - 1


@njit(cache=True)
def transition(s, a, u, p_right, n_states, visited, reward_visited, reward_unvisited):
    """One step of the process with its history-dependent reward: (s', visited', f, terminal)."""
    s2 = step(s, a, u, p_right, n_states)
    visited = visited or s2 == n_states - 1
    if s2 == 0:
        return s2, visited, (reward_visited if visited else reward_unvisited), True
    return s2, visited, 0.0, False


def transition_matrix(p_right: float, n_states: int = N_STATES) -> np.ndarray:
    """P[s, a, s'] for the non-terminal states s = 1..n-1 (row 0, the terminal s1, is all zero)."""
    P = np.zeros((n_states, N_ACTIONS, n_states))
    for s in range(1, n_states):
        P[s, LEFT, s - 1] = 1.0
        P[s, RIGHT, min(s + 1, n_states - 1)] += p_right
        P[s, RIGHT, s - 1] += 1.0 - p_right
    return P


def _terminal_reward(visited: bool, reward_visited: float, reward_unvisited: float) -> float:
    return reward_visited if visited else reward_unvisited


def flat_policy_return(pi: np.ndarray, p_right: float = 0.5, reward_visited: float = 1.0,
                       reward_unvisited: float = 0.01, n_states: int = N_STATES) -> float:
    """Exact expected undiscounted return from s2 of the memoryless policy pi[s, a] (rows sum to 1)."""
    pi = np.asarray(pi, dtype=float)
    P = transition_matrix(p_right, n_states)
    M = np.einsum("sa,sat->st", pi, P)  # state chain under pi
    last = n_states - 1
    # transient states (s, v) for s = 1..n-1: index (s - 1) * 2 + v
    n = (n_states - 1) * 2
    A = np.eye(n)
    b = np.zeros(n)
    for s in range(1, n_states):
        for v in range(2):
            i = (s - 1) * 2 + v
            for t in range(n_states):
                p = M[s, t]
                if p == 0.0:
                    continue
                vt = 1 if (v or t == last) else 0
                if t == TERMINAL:
                    b[i] += p * _terminal_reward(bool(vt), reward_visited, reward_unvisited)
                else:
                    A[i, (t - 1) * 2 + vt] -= p
    x = np.linalg.solve(A, b)
    return float(x[(START - 1) * 2 + 0])


def hier_policy_return(mu: np.ndarray, pi: np.ndarray, p_right: float = 0.5, reward_visited: float = 1.0,
                       reward_unvisited: float = 0.01, n_states: int = N_STATES) -> float:
    """Exact expected undiscounted return from s2 of a two-level policy.

    ``mu[s, g]``: the meta-controller's goal distribution in s; ``pi[s, g, a]``: the controller's action
    distribution in s under goal g. The goal is chosen at the start and again whenever the controller
    *arrives* at it (so a goal equal to the current state needs at least one step, as in the agents);
    reaching s1 ends the episode.
    """
    mu = np.asarray(mu, dtype=float)
    pi = np.asarray(pi, dtype=float)
    G = mu.shape[1]
    P = transition_matrix(p_right, n_states)
    last = n_states - 1

    def idx(s, g, v):
        return ((s - 1) * G + g) * 2 + v

    n = (n_states - 1) * G * 2
    A = np.eye(n)
    b = np.zeros(n)
    for s in range(1, n_states):
        for g in range(G):
            M = pi[s, g] @ P[s]  # successor distribution
            for v in range(2):
                i = idx(s, g, v)
                for t in range(n_states):
                    p = M[t]
                    if p == 0.0:
                        continue
                    vt = 1 if (v or t == last) else 0
                    if t == TERMINAL:
                        b[i] += p * _terminal_reward(bool(vt), reward_visited, reward_unvisited)
                    elif t == g:  # goal reached: the meta-controller picks the next goal in t
                        for g2 in range(G):
                            if mu[t, g2] > 0.0:
                                A[i, idx(t, g2, vt)] -= p * mu[t, g2]
                    else:
                        A[i, idx(t, g, vt)] -= p
    x = np.linalg.solve(A, b)
    return float(sum(mu[START, g] * x[idx(START, g, 0)] for g in range(G)))


def greedy_probs(q: np.ndarray) -> np.ndarray:
    """Greedy distribution over the last axis: ties share the probability uniformly (as the agents'
    random tie-breaking does)."""
    q = np.asarray(q, dtype=float)
    best = q == q.max(axis=-1, keepdims=True)
    return best / best.sum(axis=-1, keepdims=True)


def epsilon_greedy_probs(q: np.ndarray, epsilon: float) -> np.ndarray:
    """epsilon-greedy distribution over the last axis (greedy ties shared uniformly)."""
    k = np.asarray(q).shape[-1]
    return (1.0 - epsilon) * greedy_probs(q) + epsilon / k
