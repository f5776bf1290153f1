"""h-DQN's two-level learning algorithm (Kulkarni et al. 2016, Algorithm 1) with Q-*tables* instead of
deep Q-networks, on the stochastic chain of Sec. 4.1 -- the paper's own setting for that task ("our approach
(without the deep neural networks)"). Compiled with numba; one whole training run per call.

Algorithm (Algorithm 1 of the paper, tabular, one-step online updates)::

    Q1(s, g, a) = 0 (controller), Q2(s, g) = 0 (meta-controller); goals G = every state s1..s6
    for each episode:
        s = s2;  g = epsGreedy(Q2(s, .), eps2)
        while s is not terminal:
            F = 0;  s0 = s                                    # s0: the state where g was chosen
            while not (s is terminal or g reached):
                a = epsGreedy(Q1(s, g, .), eps1_g)
                s' ~ P(. | s, a); f = extrinsic reward; r = 1 if s' == g else 0 (internal critic)
                Q1(s, g, a) += alpha (r + gamma max_a' Q1(s', g, a') - Q1(s, g, a))   # no bootstrap if
                                                                  # s' == g or s' terminal
                F += f;  s = s'
            Q2(s0, g) += alpha_meta (F + gamma max_g' Q2(s, g') - Q2(s0, g))      # no bootstrap if terminal
            if s is not terminal: g = epsGreedy(Q2(s, .), eps2)
        anneal eps2; (adaptive mode) eps1_g = max(eps_end, 1 - success rate of g over its last W attempts)

The meta-controller's transition is (s0, g, F, s_{t+N}) with F the *sum of the extrinsic rewards over the
whole goal period* and s0 the state where the goal was chosen -- the paper's Q2 target
``sum_{t'=t}^{t+N} f_t' + gamma max_g' Q2(s_{t+N}, g')`` (undiscounted inside the period, one gamma per
meta-step, as the paper writes it).

Choices (see config/config.yaml): one-step online table updates instead of replayed minibatches (a table
needs no replay to decorrelate anything; the neural agent :mod:`.hdqn` keeps the replay); "g reached"
means *arriving* in g after at least one step, so a goal equal to the current state asks the agent to
leave and come back; ``ctrl_eps_mode`` 0 anneals every epsilon linearly by environment steps (Sec. 4.1:
"all epsilon parameters are annealed from 1 to 0.1 over 50,000 steps"), mode 1 anneals eps2 so and sets
eps1_g from goal g's success rate at the end of every episode (Algorithm 1's "adaptively anneal eps1_g
using average success rate of reaching goal g"; the rule max(eps_end, 1 - rate) over the last
``success_window`` attempts is ours: the paper gives none). ``max_steps``: a never-binding safety cap;
if it cuts a goal period short, that period's meta transition is dropped.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..envs.chain import check_params, transition
from .tabular import check_snapshots, greedy


@njit(cache=True)
def linear_epsilon(t, eps_start, eps_end, anneal_steps):
    """eps_start annealed linearly to eps_end over anneal_steps environment steps, then constant."""
    if anneal_steps <= 0 or t >= anneal_steps:
        return eps_end
    return eps_start + (eps_end - eps_start) * t / anneal_steps


@njit(cache=True)
def _eps_greedy(q_row, eps):
    if np.random.random() < eps:
        return int(np.random.random() * q_row.shape[0])
    return greedy(q_row)


@njit(cache=True)
def run(n_states, start, p_right, reward_visited, reward_unvisited, n_episodes, alpha, alpha_meta, gamma,
        eps_start, eps_end, anneal_steps, ctrl_eps_mode, success_window, max_steps, seed, snapshots,
        log_meta):
    np.random.seed(seed)
    G = n_states
    Q1 = np.zeros((n_states, G, 2))
    Q2 = np.zeros((n_states, G))
    steps = np.zeros(n_episodes, dtype=np.int64)
    decisions = np.zeros(n_episodes, dtype=np.int64)
    ret = np.zeros(n_episodes)
    visited6 = np.zeros(n_episodes, dtype=np.bool_)
    capped = np.zeros(n_episodes, dtype=np.bool_)
    visits = np.zeros((n_episodes, n_states), dtype=np.int64)
    first_goal = np.zeros(n_episodes, dtype=np.int64)
    eps2_log = np.zeros(n_episodes)
    eps1_log = np.zeros((n_episodes, G))
    Q1_hist = np.empty((snapshots.shape[0], n_states, G, 2))
    Q2_hist = np.empty((snapshots.shape[0], n_states, G))
    meta_log = np.zeros((log_meta, 5))  # episode, s0, g, F, s_end of the first log_meta meta transitions
    n_log = 0
    eps1 = np.ones(G)
    hist = np.zeros((G, max(success_window, 1)), dtype=np.int8)
    n_att = np.zeros(G, dtype=np.int64)
    t = 0
    ci = 0
    for ep in range(n_episodes):
        s = start
        visited = False
        k = 0
        d = 0
        eps2_log[ep] = linear_epsilon(t, eps_start, eps_end, anneal_steps)
        for g_ in range(G):
            eps1_log[ep, g_] = eps1[g_] if ctrl_eps_mode == 1 else eps2_log[ep]
        g = _eps_greedy(Q2[s], linear_epsilon(t, eps_start, eps_end, anneal_steps))
        first_goal[ep] = g
        done = False
        while True:
            F = 0.0
            s0 = s
            d += 1
            reached = False
            cut = False
            while True:
                e1 = eps1[g] if ctrl_eps_mode == 1 else linear_epsilon(t, eps_start, eps_end, anneal_steps)
                a = _eps_greedy(Q1[s, g], e1)
                s2, visited, f, done = transition(s, a, np.random.random(), p_right, n_states, visited,
                                                  reward_visited, reward_unvisited)
                t += 1
                k += 1
                visits[ep, s2] += 1
                reached = s2 == g
                r = 1.0 if reached else 0.0
                if reached or done:
                    Q1[s, g, a] += alpha * (r - Q1[s, g, a])
                else:
                    best = Q1[s2, g, 0] if Q1[s2, g, 0] > Q1[s2, g, 1] else Q1[s2, g, 1]
                    Q1[s, g, a] += alpha * (r + gamma * best - Q1[s, g, a])
                F += f
                s = s2
                if reached or done:
                    break
                if k >= max_steps:
                    cut = True
                    break
            if cut:
                capped[ep] = True
                break
            if done:
                Q2[s0, g] += alpha_meta * (F - Q2[s0, g])
            else:
                best = Q2[s, 0]
                for h in range(1, G):
                    if Q2[s, h] > best:
                        best = Q2[s, h]
                Q2[s0, g] += alpha_meta * (F + gamma * best - Q2[s0, g])
            if n_log < log_meta:
                meta_log[n_log, 0] = ep
                meta_log[n_log, 1] = s0
                meta_log[n_log, 2] = g
                meta_log[n_log, 3] = F
                meta_log[n_log, 4] = s
                n_log += 1
            if success_window > 0:
                hist[g, n_att[g] % success_window] = 1 if reached else 0
                n_att[g] += 1
            ret[ep] += F
            if done:
                break
            g = _eps_greedy(Q2[s], linear_epsilon(t, eps_start, eps_end, anneal_steps))
        steps[ep] = k
        decisions[ep] = d
        visited6[ep] = visited
        if ctrl_eps_mode == 1:  # end of episode: adapt eps1_g to goal g's recent success rate
            for g_ in range(G):
                n = min(n_att[g_], success_window)
                if n > 0:
                    rate = hist[g_, :n].sum() / n
                    eps1[g_] = max(eps_end, 1.0 - rate)
        if ci < snapshots.shape[0] and snapshots[ci] == ep + 1:
            Q1_hist[ci] = Q1
            Q2_hist[ci] = Q2
            ci += 1
    return (steps, decisions, ret, visited6, capped, visits, first_goal, eps2_log, eps1_log, Q1, Q2, Q1_hist,
            Q2_hist, meta_log[:n_log])


def train(n_episodes, alpha, alpha_meta, gamma, eps_start=1.0, eps_end=0.1, anneal_steps=50_000,
          ctrl_eps_mode="linear", success_window=100, p_right=0.5, reward_visited=1.0, reward_unvisited=0.01,
          n_states=6, start=1, max_steps=100_000, seed=0, snapshots=(), log_meta=0):
    """Python entry point: validates arguments, runs the compiled loop, returns a dict of arrays
    (``meta_log``: the first ``log_meta`` meta transitions as rows (episode, s0, g, F, s_end))."""
    for key, v in (("alpha", alpha), ("alpha_meta", alpha_meta)):
        if not 0.0 < v <= 1.0:
            raise ValueError(f"{key}: {v} is outside (0, 1]")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma: {gamma} is outside [0, 1]")
    check_params(p_right, reward_visited, reward_unvisited)
    modes = {"linear": 0, "success_rate": 1}
    if ctrl_eps_mode not in modes:
        raise ValueError(f"controller_epsilon: {ctrl_eps_mode!r} is not one of {sorted(modes)}")
    snapshots = check_snapshots(snapshots, n_episodes)
    out = run(int(n_states), int(start), float(p_right), float(reward_visited), float(reward_unvisited),
              int(n_episodes), float(alpha), float(alpha_meta), float(gamma), float(eps_start), float(eps_end),
              int(anneal_steps), modes[ctrl_eps_mode], int(success_window), int(max_steps),
              int(seed) % (2**32), snapshots, int(log_meta))
    keys = ("steps", "decisions", "return", "visited6", "capped", "visits", "first_goal", "epsilon",
            "epsilon_ctrl", "Q1", "Q2", "Q1_snapshots", "Q2_snapshots", "meta_log")
    res = dict(zip(keys, out))
    res["snapshots"] = snapshots
    return res
