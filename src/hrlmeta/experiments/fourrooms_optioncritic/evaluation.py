"""Where the learned options of ``fourrooms_optioncritic`` terminate: evaluation episodes after training.

Bacon, Harb & Precup (2017) say of Four Rooms that "termination events are more likely to occur near the
doorways" (Fig. 3). A termination *event* is the option in force ending on arrival in a cell (the draw
``beta_w(s')`` of Algorithm 1 comes up "terminate"); this module counts, per option and cell, how often
that happens and how often it could have happened, over ``eval_episodes`` episodes run after training with
the final, frozen parameters (no learning):

    s ~ uniform over the non-goal cells;  w = epsilon-greedy(Q_Omega(s, .))
    repeat:
        a ~ softmax(theta[w, s, .] / T);  take a, arrive in s'
        if s' is the goal or the step cap is reached: the episode ends (no termination draw)
        visits[w, s'] += 1                             # a termination opportunity of w in s'
        if uniform() < sigmoid(vartheta[w, s']):       # a termination event of w in s'
            terminations[w, s'] += 1;  w = epsilon-greedy(Q_Omega(s', .))
        s = s'

as the training loop of :mod:`hrlmeta.algos.option_critic` acts (same policy over options, same
intra-option policies, same termination draw, same step cap) but without its updates. Hence, per episode,
``decisions = 1 + terminations`` and ``visits = steps - 1`` (the last step arrives at the goal or at the
cap, where nothing is drawn); :func:`check_counts` verifies both.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ...algos.tabular import boltzmann_probs, greedy, random_start, sample_probs


@njit(cache=True)
def _choose(Q, s, epsilon):
    if np.random.random() < epsilon:
        return int(np.random.random() * Q.shape[1])
    return greedy(Q[s])


@njit(cache=True)
def _run(next_k, goal, Q, theta, vartheta, epsilon, temperature, max_steps, n_episodes, seed):
    np.random.seed(seed)
    n_options, n_states, n_actions = theta.shape
    k_slots = next_k.shape[2]
    visits = np.zeros((n_options, n_states), dtype=np.int64)
    terms = np.zeros((n_options, n_states), dtype=np.int64)
    steps = np.zeros(n_episodes, dtype=np.int64)
    decisions = np.zeros(n_episodes, dtype=np.int64)
    reached = np.zeros(n_episodes, dtype=np.bool_)
    pi = np.empty(n_actions)
    for ep in range(n_episodes):
        s = random_start(n_states, goal)
        w = _choose(Q, s, epsilon)
        d = 1
        t = 0
        while True:
            boltzmann_probs(theta[w, s], temperature, pi)
            a = sample_probs(pi)
            s2 = next_k[s, a, int(np.random.random() * k_slots)]
            t += 1
            if s2 == goal:
                reached[ep] = True
                break
            if t >= max_steps:
                break
            visits[w, s2] += 1
            if np.random.random() < 1.0 / (1.0 + np.exp(-vartheta[w, s2])):
                terms[w, s2] += 1
                w = _choose(Q, s2, epsilon)
                d += 1
            s = s2
        steps[ep] = t
        decisions[ep] = d
    return visits, terms, steps, decisions, reached


def evaluate(next_k, goal: int, Q, theta, vartheta, *, epsilon: float, temperature: float, max_steps: int,
             n_episodes: int, seed: int) -> dict:
    """Run ``n_episodes`` evaluation episodes to ``goal`` with frozen option-critic tables (``Q`` (S, O),
    ``theta`` (O, S, A), ``vartheta`` (O, S)). Returns ``visits`` and ``terminations`` (O, S) int64 counts
    and per-episode ``steps``, ``decisions`` (options chosen) and ``reached``."""
    next_k = np.ascontiguousarray(next_k, dtype=np.int32)
    Q = np.ascontiguousarray(Q, dtype=np.float64)
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    vartheta = np.ascontiguousarray(vartheta, dtype=np.float64)
    n_states = next_k.shape[0]
    if not 0 <= int(goal) < n_states:
        raise ValueError(f"goal={goal!r} outside 0..{n_states - 1}")
    if theta.shape[1] != n_states or vartheta.shape != theta.shape[:2] or Q.shape != (n_states, theta.shape[0]):
        raise ValueError(f"tables of shapes Q {Q.shape}, theta {theta.shape}, vartheta {vartheta.shape} do not "
                         f"fit {n_states} states")
    if int(n_episodes) < 0 or int(max_steps) < 1:
        raise ValueError(f"n_episodes={n_episodes!r} must be >= 0 and max_steps={max_steps!r} >= 1")
    visits, terms, steps, decisions, reached = _run(
        next_k, int(goal), Q, theta, vartheta, float(epsilon), float(temperature), int(max_steps),
        int(n_episodes), int(seed) % (2**32))
    return {"visits": visits, "terminations": terms, "steps": steps, "decisions": decisions, "reached": reached}


def check_counts(res: dict) -> None:
    """ValueError unless the counts agree with the episodes: termination events only where the option was
    visited (never more than visits), ``sum(terminations) = sum(decisions) - episodes`` and ``sum(visits) =
    sum(steps) - episodes``."""
    v, t = np.asarray(res["visits"]), np.asarray(res["terminations"])
    n = len(res["steps"])
    if v.shape != t.shape or (v < 0).any() or (t < 0).any() or (t > v).any():
        raise ValueError("termination events must be non-negative counts, at most the visits of each option x cell")
    if int(t.sum()) != int(np.sum(res["decisions"])) - n:
        raise ValueError(f"{int(t.sum())} termination events but {int(np.sum(res['decisions'])) - n} option "
                         "switches (decisions - episodes)")
    if int(v.sum()) != int(np.sum(res["steps"])) - n:
        raise ValueError(f"{int(v.sum())} visits but {int(np.sum(res['steps'])) - n} termination draws "
                         "(steps - episodes)")
