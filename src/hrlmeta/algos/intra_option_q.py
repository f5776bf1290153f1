"""One-step intra-option Q-learning (Sutton, Precup & Singh, 1999, Section 6, Eq. (21); Sutton & Precup,
1998, "Intra-option learning about temporally abstract actions").

After every primitive transition (s_t, a_t, r_{t+1}, s_{t+1}) the value of *every* Markov option o whose
policy would have taken a_t in s_t (here: deterministic policies, pi_o(s_t) = a_t, s_t in I_o) is updated,
whether or not o is the option being executed::

    Q(s_t, o) += alpha * (r_{t+1} + gamma * U(s_{t+1}, o) - Q(s_t, o))
    U(s, o)    = (1 - beta_o(s)) Q(s, o) + beta_o(s) max_{o' in O_s} Q(s, o')

with U = 0 when s_{t+1} is the goal (terminal). A primitive action a, as a one-step option (beta = 1), is
consistent exactly when a_t = a, so for primitives the rule is ordinary Q-learning.

Choices (a documented config choice; the paper's own intra-option value-learning experiment (Fig. 10) used
a behaviour policy of uniformly random primitive actions to show off-policy learning of the hallway
options' values; here we compare learning *speed* against flat Q-learning, so the agent must also act
on what it learns):

* Option set: A u H by default (``option_set`` in the experiment config: ``AH`` or ``H``). With A u H
  the agent can represent the optimal primitive policy, so it is judged against the same optimum as flat
  Q-learning.
* Behaviour: call-and-return execution of an epsilon-greedy choice over the options available in the
  current state (the same behaviour as :mod:`hrlmeta.algos.smdp_q`; greedy ties uniformly random); the
  intra-option updates run at every primitive step of the executed option. Only the learning rule
  differs from SMDP Q-learning.
* Reaching the goal ends the episode. ``max_steps`` caps an episode (the paper has none); the capped
  episode is reported with ``reached = False`` (its updates are kept -- each is a complete one-step
  update).
* Randomness: numba's own generator seeded with ``seed`` at the start of the call.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .tabular import check_snapshots, select_available


@njit(cache=True)
def run(next_k, act, beta, avail, n_avail, consistent, n_consistent, start, goal, n_episodes, alpha,
        gamma, epsilon, max_steps, seed, q_init, snapshots):
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
        while not done and t < max_steps:
            o = select_available(Q, s, avail, n_avail, epsilon)
            d += 1
            while True:
                a = act[o, s]
                s2 = next_k[s, a, int(np.random.random() * k_slots)]
                t += 1
                if s2 == goal:
                    # terminal: U = 0 for every option, r = 1
                    for i in range(n_consistent[s, a]):
                        c = consistent[s, a, i]
                        Q[s, c] += alpha * (1.0 - Q[s, c])
                    done = True
                    break
                # max over the options available in s2 (shared by every terminating option)
                m = Q[s2, avail[s2, 0]]
                for i in range(1, n_avail[s2]):
                    v = Q[s2, avail[s2, i]]
                    if v > m:
                        m = v
                for i in range(n_consistent[s, a]):
                    c = consistent[s, a, i]
                    if beta[c, s2] == 1:
                        u = m
                    else:
                        u = Q[s2, c]
                    Q[s, c] += alpha * (gamma * u - Q[s, c])
                s = s2
                if beta[o, s] == 1 or t >= max_steps:
                    break
        reached[ep] = done
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
    the learned ``Q`` (S, O).
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
        next_k, options.act, options.beta, options.avail, options.n_avail, options.consistent,
        options.n_consistent, int(start), int(goal), int(n_episodes), float(alpha), float(gamma),
        float(epsilon), int(max_steps), int(seed) % (2**32), np.ascontiguousarray(q_init, dtype=np.float64),
        snapshots,
    )
    return {"steps": steps, "decisions": decisions, "reached": reached, "Q": Q,
            "snapshots": snapshots, "Q_snapshots": Q_hist}
