"""SMDP Q-learning over a set of options (Bradtke & Duff, 1995; Sutton, Precup & Singh, 1999, Section 3.2,
Eq. (13) and Fig. 5): ``smdp_q_options`` learns over the eight hallway options H, ``smdp_q_mixed`` over
A u H (primitive actions as one-step options plus the hallway options). The option set is a parameter.

Algorithm (call-and-return execution; one whole training run in one compiled call)::

    Q(s, o) = 0 for all s and o in O_s (the options whose initiation set contains s)
    repeat for each episode:
        s = start
        until s is the goal:
            o = epsilon-greedy over O_s            # greedy ties broken uniformly at random
            execute o until it terminates (beta(s_t) = 1), or the goal is reached:
                a_t = pi_o(s_t); s_{t+1} ~ P(. | s_t, a_t); r_{t+1} = 1 if s_{t+1} is the goal else 0
            k = number of primitive steps o took, s' = the state it stopped in,
            r = r_1 + gamma r_2 + ... + gamma^(k-1) r_k
            Q(s, o) += alpha * (r + gamma^k max_{o' in O_s'} Q(s', o') - Q(s, o))   # max term = 0 at the goal
            s = s'

This is the paper's Eq. (13). Choices, as in the paper unless stated:

* epsilon-greedy over the options available in s: "options were usually selected at random from among
  those with maximal option value ... but with probability epsilon the option was instead selected
  randomly from all the options available in s_t" (epsilon = 0.1 in the experiment config).
* An option's termination condition is only consulted after its first step (the standard call-and-return
  semantics), so an option may start in a state where beta = 1 (a hallway option from its room's other
  hallway).
* Reaching the goal ends the episode, and with it the running option; the update then uses the
  discounted reward collected so far and no bootstrap term.
* ``max_steps``: a safety cap on an episode's primitive steps (the paper has none). If the cap cuts an
  option short, that option's (incomplete) experience is discarded -- no update -- and the episode is
  reported with ``reached = False``.
* Randomness: numba's own generator seeded with ``seed`` at the start of the call.

Options are integer arrays (see :class:`hrlmeta.envs.fourrooms.OptionSet`): ``act[o, s]`` the
(deterministic) intended action, ``beta[o, s]`` in {0, 1}, ``avail[s, :n_avail[s]]`` the options
initiable in s.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .tabular import check_snapshots, max_available, select_available


@njit(cache=True)
def run(next_k, act, beta, avail, n_avail, start, goal, n_episodes, alpha, gamma, epsilon, max_steps,
        seed, q_init, snapshots):
    """One training run. Returns (steps[e], decisions[e], reached[e], Q, Q_hist) with Q shaped (S, O)
    and ``Q_hist[i]`` the table after episode ``snapshots[i]`` (1-based, increasing)."""
    np.random.seed(seed)
    k_slots = next_k.shape[2]
    Q = q_init.copy()
    steps = np.zeros(n_episodes, dtype=np.int64)
    decisions = np.zeros(n_episodes, dtype=np.int64)
    reached = np.zeros(n_episodes, dtype=np.bool_)
    Q_hist = np.empty((snapshots.shape[0], Q.shape[0], Q.shape[1]))
    ci = 0
    for ep in range(n_episodes):
        s = start
        t = 0
        d = 0
        done = False
        while not done:
            o = select_available(Q, s, avail, n_avail, epsilon)
            d += 1
            s0 = s
            ret = 0.0  # discounted reward accumulated while o runs
            disc = 1.0  # gamma^k
            cut = False
            while True:
                a = act[o, s]
                s = next_k[s, a, int(np.random.random() * k_slots)]
                t += 1
                if s == goal:
                    ret += disc
                    disc *= gamma
                    done = True
                    break
                disc *= gamma
                if beta[o, s] == 1:
                    break
                if t >= max_steps:
                    cut = True
                    break
            if done:
                Q[s0, o] += alpha * (ret - Q[s0, o])
                reached[ep] = True
            elif cut:
                break
            else:
                target = ret + disc * max_available(Q, s, avail, n_avail)
                Q[s0, o] += alpha * (target - Q[s0, o])
                if t >= max_steps:
                    break
        steps[ep] = t
        decisions[ep] = d
        if ci < snapshots.shape[0] and snapshots[ci] == ep + 1:
            Q_hist[ci] = Q
            ci += 1
    return steps, decisions, reached, Q, Q_hist


def train(next_k, options, start, goal, n_episodes, alpha, gamma=0.9, epsilon=0.1, max_steps=100_000,
          seed=0, q_init=None, snapshots=()):
    """Python entry point (``snapshots``: 1-based episodes after which a copy of Q is kept, returned as
    ``Q_snapshots``). ``options``: an :class:`~hrlmeta.envs.fourrooms.OptionSet`.

    Returns a dict with per-episode ``steps`` (primitive), ``decisions`` (options chosen), ``reached``
    the learned ``Q`` (S, O; entries of options not available in a state stay at their initial value).
    """
    next_k = np.ascontiguousarray(next_k, dtype=np.int32)
    n_states = next_k.shape[0]
    if options.act.shape[1] != n_states:
        raise ValueError(f"options are defined on {options.act.shape[1]} states, the env has {n_states}")
    if not 0 <= start < n_states or not 0 <= goal < n_states:
        raise ValueError(f"start={start} / goal={goal} outside 0..{n_states - 1}")
    if q_init is None:
        q_init = np.zeros((n_states, options.n_options))
    snapshots = check_snapshots(snapshots, n_episodes)
    steps, decisions, reached, Q, Q_hist = run(
        next_k, options.act, options.beta, options.avail, options.n_avail, int(start), int(goal),
        int(n_episodes), float(alpha), float(gamma), float(epsilon), int(max_steps), int(seed) % (2**32),
        np.ascontiguousarray(q_init, dtype=np.float64), snapshots,
    )
    return {"steps": steps, "decisions": decisions, "reached": reached, "Q": Q,
            "snapshots": snapshots, "Q_snapshots": Q_hist}
