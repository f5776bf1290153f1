"""Pieces the tabular Four Rooms agents share: epsilon-greedy choice with greedy ties broken uniformly at
random (as in Sutton, Precup & Singh 1999: "selected at random from among those with maximal value"),
the max over available options, and the snapshot-episode argument check. Compiled with numba and
called from the agents' compiled training loops (:mod:`.flat_q`, :mod:`.smdp_q`, :mod:`.intra_option_q`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def greedy(q_row):
    """Index of a maximal entry, ties broken uniformly at random (reservoir sampling)."""
    best = q_row[0]
    choice = 0
    ties = 1
    for a in range(1, q_row.shape[0]):
        v = q_row[a]
        if v > best:
            best = v
            choice = a
            ties = 1
        elif v == best:
            ties += 1
            if np.random.random() * ties < 1.0:
                choice = a
    return choice


@njit(cache=True)
def select_available(Q, s, avail, n_avail, epsilon):
    """epsilon-greedy over the options available in s; greedy ties broken uniformly at random."""
    n = n_avail[s]
    if np.random.random() < epsilon:
        return avail[s, int(np.random.random() * n)]
    choice = avail[s, 0]
    best = Q[s, choice]
    ties = 1
    for i in range(1, n):
        o = avail[s, i]
        v = Q[s, o]
        if v > best:
            best = v
            choice = o
            ties = 1
        elif v == best:
            ties += 1
            if np.random.random() * ties < 1.0:
                choice = o
    return choice


@njit(cache=True)
def max_available(Q, s, avail, n_avail):
    """Largest value among the options available in s."""
    best = Q[s, avail[s, 0]]
    for i in range(1, n_avail[s]):
        v = Q[s, avail[s, i]]
        if v > best:
            best = v
    return best


def check_snapshots(snapshots, n_episodes) -> np.ndarray:
    """Sorted unique snapshot episodes (1-based), each within the run."""
    snap = np.unique(np.asarray(snapshots, dtype=np.int64))
    if snap.size and (snap[0] < 1 or snap[-1] > n_episodes):
        raise ValueError(f"snapshot episodes must lie in 1..{n_episodes}, got {snap[0]}..{snap[-1]}")
    return snap


@njit(cache=True)
def boltzmann_probs(prefs, temperature, out):
    """Boltzmann (softmax) distribution of ``prefs / temperature`` into ``out`` (max-shifted, exact)."""
    m = prefs[0]
    for i in range(1, prefs.shape[0]):
        if prefs[i] > m:
            m = prefs[i]
    tot = 0.0
    for i in range(prefs.shape[0]):
        e = np.exp((prefs[i] - m) / temperature)
        out[i] = e
        tot += e
    for i in range(prefs.shape[0]):
        out[i] /= tot


@njit(cache=True)
def sample_probs(probs):
    """Index drawn from the distribution ``probs`` with one uniform draw."""
    u = np.random.random()
    c = 0.0
    last = probs.shape[0] - 1
    for i in range(last):
        c += probs[i]
        if u < c:
            return i
    return last


@njit(cache=True)
def random_start(n_states, goal):
    """A state drawn uniformly from all states but ``goal`` (one uniform draw)."""
    s = int(np.random.random() * (n_states - 1))
    return s + 1 if s >= goal else s
