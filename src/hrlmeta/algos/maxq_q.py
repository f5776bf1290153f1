"""MAXQ-Q learning (Dietterich 2000, JAIR 13, Table 4, with all-states updating) on the Taxi task graph

    Root -> Get  -> Navigate(t = passenger source) -> South, North, East, West
                 -> Pickup
         -> Put  -> Navigate(t = destination)      -> South, North, East, West
                 -> Putdown

with or without the paper's state abstractions (Sec. 5.1.6) and with optional hierarchical greedy
execution (Sec. 6, "ExecuteHGPolicy" with the interruption length L). One module, three agents:
``maxq_q`` (abstract=False), ``maxq_q_abs`` (abstract=True), ``maxq_q_abs_greedy`` (abstract=True and an
L schedule).

The MAXQ value function decomposition
-------------------------------------
Every Q value is computed as the paper's Eq. (10): ``Q(i, s, a) = V(a, s) + C(i, s, a)`` -- the value of
the child ``a`` plus the completion value of ``i`` after ``a`` -- and ``V(i, s) = max_a Q(i, s, a)`` over
the children available in s (Eq. 11; a composite child is available where it is not terminated), with
``V(a, s)`` learned directly at the primitive leaves. See :func:`q_nav`, :func:`q_get`, :func:`q_put`,
:func:`q_root`.

Subtasks (termination predicates; every termination is a goal termination, pseudo-reward 0)
* Root: the passenger is delivered (the episode ends).
* Get: the passenger is in the taxi. Children: Navigate(source) (available unless the taxi is at the
  source) and Pickup.
* Put: the passenger is not in the taxi (only after delivery). Children: Navigate(destination) and
  Putdown. Navigate's parameter is bound when Put calls it and stays bound until Navigate terminates (a
  fickle passenger's new destination is seen when Navigate returns).
* Navigate(t): the taxi is at landmark t.
Because every terminal state of every subtask is a goal state with pseudo-reward 0, the paper's two
completion functions coincide (C~ = C: lines 16 and 17 of Table 4 are the same update), so one C table per
Q node is stored. The completion value in a state where the subtask has terminated is 0.

Updates (Table 4): at a leaf, ``V(a, s) <- (1 - alpha) V(a, s) + alpha r``; when child a of node i
returns in s', for every state s_j of the child's state sequence (most recent first, "all-states
updating"): ``C(i, s_j, a) <- (1 - alpha) C(i, s_j, a) + alpha gamma^(N_j) max_a' [C(i, s', a') + V(a', s')]``
with N_j the number of primitive steps from s_j to s' (the paper's pseudo-code counts N down from the
sequence length starting at the most recent state; with gamma = 1, as in Taxi, the two agree).
CHOICE: all-states updating skips the states of the sequence in which node i would have called a
different child (a Navigate bound to another target after the fickle passenger changed the destination),
because those states did not execute the child being updated.

State abstraction (Sec. 5.1.6; ``abstract=True``): C(Root, ., Get) on (source, destination) (16 values),
C(Root, ., Put) = 0 not stored (Termination + Shielding), C(Get, ., Navigate) on the source (4),
C(Get, ., Pickup) on (taxi cell, source) (100), C(Put, ., Navigate) on the destination (4),
C(Put, ., Putdown) on (taxi cell, destination) (100), C(Navigate(t), ., move) on (t, taxi cell)
(4 x 100), V(move) 1 value each, V(Pickup) and V(Putdown) 2 each (legal / illegal): 632 values.
Without abstraction: 6 x 500 leaf values + 6 x 500 C values at Root/Get/Put + 4 x 4 x 500 at Navigate
= 14,000 (the paper's counts; :func:`table_sizes`).

Exploration (Sec. 7.1): Boltzmann exploration at every Max node with its own temperature, multiplied by
the node's cooling rate each time that subtask terminates in a goal state (Navigate(t) shares one
temperature for its four targets: the paper gives one cooling rate "at MaxNavigate").

Hierarchical greedy execution (Sec. 6): after ``L`` primitive steps of hierarchical execution control
returns to the root, which chooses again (Boltzmann over the decomposed Q values, i.e. greedy once
cooled). L starts at ``greedy_l0`` and drops by ``greedy_dl`` per episode down to 1 (paper: 500, 10).
An interrupted child has not terminated, so its parent gets no update for it ("these samples cannot be
obtained").

The whole run (``n_steps`` primitive steps) is one compiled call with an explicit execution stack
(the paper's Table 1) instead of recursion.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from ..envs.taxi import step
from .boltzmann import boltzmann

# Max nodes
ROOT, GET, PUT, NAV = 0, 1, 2, 3
LEAF0 = 4  # primitive a is node LEAF0 + a
# Q nodes (one C table each)
Q_GET, Q_PUT, Q_NAVGET, Q_PICKUP, Q_NAVPUT, Q_PUTDOWN, Q_MOVE0 = 0, 1, 2, 3, 4, 5, 6
N_QNODES = 10
QNODE_NAMES = ("QGet", "QPut", "QNavigateForGet", "QPickup", "QNavigateForPut", "QPutdown",
               "QSouth(t)", "QNorth(t)", "QEast(t)", "QWest(t)")
NODE_NAMES = ("Root", "Get", "Put", "Navigate")
#: number of children (slots) of each Max node
N_CHILDREN = np.array([2, 2, 2, 4], dtype=np.int64)
NEG = -1e300


def table_sizes(abstract: bool) -> tuple[np.ndarray, np.ndarray]:
    """(sizes of the 10 C tables, sizes of the 6 leaf V tables): the values the agent stores."""
    if abstract:
        c = np.array([16, 0, 4, 100, 4, 100, 100, 100, 100, 100], dtype=np.int64)
        v = np.array([1, 1, 1, 1, 2, 2], dtype=np.int64)
    else:
        c = np.array([500] * 6 + [4 * 500] * 4, dtype=np.int64)
        v = np.full(6, 500, dtype=np.int64)
    return c, v


def _offsets(sizes: np.ndarray) -> np.ndarray:
    return np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)


# ----------------------------------------------------------------------------------------------
# table indices (the state abstraction lives here and only here)
# ----------------------------------------------------------------------------------------------


def c_index(q: int, s: int, t: int, abstract: bool, c_off) -> int:
    """Index of C(i, s, a) for Q node q (t: Navigate's target), or -1 where C is 0 and not stored."""
    dest, passenger, cell = s % 4, (s // 4) % 5, s // 20
    if not abstract:
        return int(c_off[q] + (t * 500 + s if q >= Q_MOVE0 else s))
    local = {Q_GET: passenger * 4 + dest,           # (source, destination): Result Distribution Irrelevance
             Q_PUT: None,                            # Termination + Shielding: C(Root, s, Put) = 0
             Q_NAVGET: passenger,                    # source only
             Q_PICKUP: cell * 4 + passenger,         # (taxi cell, source)
             Q_NAVPUT: dest,                         # destination only
             Q_PUTDOWN: cell * 4 + dest}.get(q, t * 25 + cell)  # Navigate(t): (t, taxi cell)
    return -1 if local is None else int(c_off[q] + local)


def v_index(a: int, s: int, abstract: bool, v_off, cell_landmark) -> int:
    """Index of the leaf value V(a, s): per state, or (abstract) one value per move and two (legal /
    illegal) for Pickup and Putdown (Leaf Irrelevance)."""
    if not abstract:
        return int(v_off[a] + s)
    if a < 4:
        return int(v_off[a])
    dest, passenger, lm = s % 4, (s // 4) % 5, cell_landmark[s // 20]
    legal = (passenger < 4 and lm == passenger) if a == 4 else (passenger == 4 and lm == dest)
    return int(v_off[a] + int(legal))


def index_tables(abstract: bool, cell_landmark) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(CI[q, t, s], VI[a, s], SV[s]) for the compiled code: :func:`c_index` and :func:`v_index` for
    every argument, and SV[s] = (landmark index of the taxi's cell or -1, passenger, destination).
    Cached per process (read-only arrays)."""
    return _index_tables(bool(abstract), tuple(int(x) for x in cell_landmark))


@functools.lru_cache(maxsize=4)
def _index_tables(abstract: bool, cell_landmark: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c_sizes, v_sizes = table_sizes(abstract)
    c_off, v_off = _offsets(c_sizes), _offsets(v_sizes)
    S = np.arange(500)
    CI = np.array([[[c_index(q, s, t, abstract, c_off) for s in S] for t in range(4)] for q in range(N_QNODES)],
                  dtype=np.int64)
    VI = np.array([[v_index(a, s, abstract, v_off, cell_landmark) for s in S] for a in range(6)], dtype=np.int64)
    SV = np.stack([np.asarray(cell_landmark)[S // 20], (S // 4) % 5, S % 4], axis=1).astype(np.int64)
    for a in (CI, VI, SV):
        a.setflags(write=False)
    return CI, VI, SV


@njit(cache=True, inline="always")
def c_value(q, s, t, C, CI):
    i = CI[q, t, s]
    return 0.0 if i < 0 else C[i]


# ----------------------------------------------------------------------------------------------
# the decomposition Q(i, s, a) = V(a, s) + C(i, s, a), level by level
# ----------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def q_nav(t, d, s, C, V, CI, VI, SV):
    """Q(Navigate(t), s, d) = V(d, s) + C(Navigate(t), s, d)."""
    return V[VI[d, s]] + c_value(Q_MOVE0 + d, s, t, C, CI)


@njit(cache=True, inline="always")
def v_nav(t, s, C, V, CI, VI, SV):
    """V(Navigate(t), s) = max_d Q(Navigate(t), s, d)."""
    best = NEG
    for d in range(4):
        v = q_nav(t, d, s, C, V, CI, VI, SV)
        if v > best:
            best = v
    return best


@njit(cache=True, inline="always")
def q_get(k, s, C, V, CI, VI, SV):
    """Q(Get, s, k): k = 0 Navigate(source), k = 1 Pickup; NEG where the child is not available."""
    passenger = SV[s, 1]
    if k == 0:
        if passenger >= 4 or SV[s, 0] == passenger:
            return NEG  # Navigate(source) is terminated here: not executable
        return v_nav(passenger, s, C, V, CI, VI, SV) + c_value(Q_NAVGET, s, 0, C, CI)
    return V[VI[4, s]] + c_value(Q_PICKUP, s, 0, C, CI)


@njit(cache=True, inline="always")
def q_put(k, s, C, V, CI, VI, SV):
    """Q(Put, s, k): k = 0 Navigate(destination), k = 1 Putdown."""
    dest = SV[s, 2]
    if k == 0:
        if SV[s, 0] == dest:
            return NEG
        return v_nav(dest, s, C, V, CI, VI, SV) + c_value(Q_NAVPUT, s, 0, C, CI)
    return V[VI[5, s]] + c_value(Q_PUTDOWN, s, 0, C, CI)


@njit(cache=True, inline="always")
def v_get(s, C, V, CI, VI, SV):
    return max(q_get(0, s, C, V, CI, VI, SV), q_get(1, s, C, V, CI, VI, SV))


@njit(cache=True, inline="always")
def v_put(s, C, V, CI, VI, SV):
    return max(q_put(0, s, C, V, CI, VI, SV), q_put(1, s, C, V, CI, VI, SV))


@njit(cache=True, inline="always")
def q_root(k, s, C, V, CI, VI, SV):
    """Q(Root, s, k): k = 0 Get (available while the passenger is not in the taxi), k = 1 Put."""
    in_taxi = SV[s, 1] == 4
    if k == 0:
        if in_taxi:
            return NEG
        return v_get(s, C, V, CI, VI, SV) + c_value(Q_GET, s, 0, C, CI)
    if not in_taxi:
        return NEG
    return v_put(s, C, V, CI, VI, SV) + c_value(Q_PUT, s, 0, C, CI)


@njit(cache=True, inline="always")
def q_value(node, t, k, s, C, V, CI, VI, SV):
    """Q(i, s, k) of Max node ``node`` (Navigate's target ``t``); NEG where child k is not available."""
    if node == NAV:
        return q_nav(t, k, s, C, V, CI, VI, SV)
    if node == GET:
        return q_get(k, s, C, V, CI, VI, SV)
    if node == PUT:
        return q_put(k, s, C, V, CI, VI, SV)
    return q_root(k, s, C, V, CI, VI, SV)


@njit(cache=True, inline="always")
def child_of(node, t, k, s, SV):
    """(child node, child's Navigate target or 0, Q node) of slot k of ``node`` in s."""
    if node == NAV:
        return LEAF0 + k, 0, Q_MOVE0 + k
    if node == GET:
        if k == 0:
            return NAV, SV[s, 1], Q_NAVGET
        return LEAF0 + 4, 0, Q_PICKUP
    if node == PUT:
        if k == 0:
            return NAV, SV[s, 2], Q_NAVPUT
        return LEAF0 + 5, 0, Q_PUTDOWN
    if k == 0:
        return GET, 0, Q_GET
    return PUT, 0, Q_PUT


@njit(cache=True, inline="always")
def terminated(node, t, s, SV):
    """T_i(s) of a composite node (the Root terminates only when the episode ends)."""
    if node == NAV:
        return SV[s, 0] == t
    if node == GET:
        return SV[s, 1] == 4
    if node == PUT:
        return SV[s, 1] != 4
    return False


@njit(cache=True)
def greedy_slot(node, t, s, C, V, CI, VI, SV):
    """The ordered greedy choice: argmax_k Q(i, s, k) over available children, ties to the lowest k."""
    best = NEG
    arg = -1
    for k in range(N_CHILDREN[node]):
        v = q_value(node, t, k, s, C, V, CI, VI, SV)
        if v > best:
            best = v
            arg = k
    return arg


@njit(cache=True)
def hg_action(s, C, V, CI, VI, SV):
    """Hierarchically greedy primitive action in s (Table 3's EvaluateMaxNode from the root)."""
    node, t = ROOT, 0
    while node < LEAF0:
        k = greedy_slot(node, t, s, C, V, CI, VI, SV)
        node, t, _ = child_of(node, t, k, s, SV)
    return node - LEAF0


# ----------------------------------------------------------------------------------------------
# training run
# ----------------------------------------------------------------------------------------------


@njit(cache=True)
def run(move_k, landmark_cell, cell_landmark, rewards, fickle_prob, drop_elsewhere, start_states,
        CI, VI, SV, n_c, n_v, n_steps, max_episodes, max_episode_steps, alpha, gamma, init,
        t0, cooling, t_floor, greedy_l0, greedy_dl, seed):
    """One MAXQ-Q training run. ``cooling``: (4,) rates of Root, Get, Put, Navigate; ``greedy_l0`` <= 0:
    purely hierarchical execution. Returns (steps[e], returns[e], success[e], decisions[e], C, V);
    decisions = choices made by Get and Put (each is followed by at least one primitive step)."""
    np.random.seed(seed)
    C = np.full(n_c, init)
    V = np.full(n_v, init)
    temp = np.full(4, t0)
    steps = np.zeros(max_episodes, dtype=np.int64)
    rets = np.zeros(max_episodes)
    succ = np.zeros(max_episodes, dtype=np.bool_)
    decs = np.zeros(max_episodes, dtype=np.int64)
    traj = np.empty(max_episode_steps + 1, dtype=np.int64)
    f_node = np.zeros(4, dtype=np.int64)  # execution stack: Max node, its target, chosen slot, child start
    f_t = np.zeros(4, dtype=np.int64)
    f_k = np.zeros(4, dtype=np.int64)
    f_0 = np.zeros(4, dtype=np.int64)
    qv = np.empty(4)
    avail = np.empty(4, dtype=np.int64)
    total = 0
    ep = 0
    while total < n_steps and ep < max_episodes:
        s = start_states[int(np.random.random() * start_states.shape[0])]
        pending = False
        t = 0
        g = 0.0
        n_dec = 0
        done = False
        limit = max(1, greedy_l0 - greedy_dl * ep) if greedy_l0 > 0 else max_episode_steps + 1
        since = 0
        depth = 0
        f_node[0] = ROOT
        f_t[0] = 0
        while True:
            # descend: each Max node on the way chooses a child (Boltzmann over Q = V + C)
            while True:
                node = f_node[depth]
                tp = f_t[depth]
                n = 0
                for k in range(N_CHILDREN[node]):
                    v = q_value(node, tp, k, s, C, V, CI, VI, SV)
                    if v > NEG:
                        qv[n] = v
                        avail[n] = k
                        n += 1
                k = avail[boltzmann(qv, n, temp[node])]
                if node == GET or node == PUT:  # decisions: Get / Put choosing a child
                    n_dec += 1
                f_k[depth] = k
                f_0[depth] = t
                child, ctp, _ = child_of(node, tp, k, s, SV)
                if child >= LEAF0:
                    break
                depth += 1
                f_node[depth] = child
                f_t[depth] = ctp
            # execute the primitive; learn its expected reward V(a, s)
            a = child - LEAF0
            traj[t] = s
            s2, r, done, pending = step(s, a, pending, move_k, landmark_cell, cell_landmark, rewards,
                                        fickle_prob, drop_elsewhere)
            t += 1
            since += 1
            g += r
            vi = VI[a, s]
            V[vi] = (1.0 - alpha) * V[vi] + alpha * r
            s = s2
            # return: the child of frame `depth` has terminated; update, pop terminated nodes
            while depth >= 0:
                node = f_node[depth]
                tp = f_t[depth]
                k = f_k[depth]
                ended = done or terminated(node, tp, s, SV)
                target = 0.0
                if not ended:
                    target = NEG
                    for kk in range(N_CHILDREN[node]):
                        v = q_value(node, tp, kk, s, C, V, CI, VI, SV)
                        if v > target:
                            target = v
                child, ctp, q = child_of(node, tp, k, traj[f_0[depth]], SV)
                disc = 1.0
                for j in range(t - 1, f_0[depth] - 1, -1):  # all-states updating, most recent first
                    disc *= gamma
                    sj = traj[j]
                    c2, t2, _ = child_of(node, tp, k, sj, SV)
                    if c2 != child or t2 != ctp:
                        continue
                    ci = CI[q, tp, sj]
                    if ci >= 0:
                        C[ci] = (1.0 - alpha) * C[ci] + alpha * disc * target
                if not ended:
                    break
                temp[node] = max(temp[node] * cooling[node], t_floor)  # goal termination: cool node
                depth -= 1
            if done or depth < 0 or t >= max_episode_steps:
                break
            if depth == 0:
                since = 0
            elif since >= limit:
                depth = 0  # interrupt: back to the root, no updates for the interrupted children
                since = 0
        steps[ep] = t
        rets[ep] = g
        succ[ep] = done
        decs[ep] = n_dec
        total += t
        ep += 1
    return steps[:ep], rets[:ep], succ[:ep], decs[:ep], C, V


class Tables:
    """Learned tables of one run and the index tables needed to read them (exact evaluation, tests)."""

    def __init__(self, C, V, abstract: bool, cell_landmark):
        self.C, self.V, self.abstract = np.asarray(C), np.asarray(V), bool(abstract)
        self.CI, self.VI, self.SV = index_tables(abstract, cell_landmark)

    @property
    def args(self) -> tuple:
        """(C, V, CI, VI, SV): the trailing arguments of the compiled q_* / greedy functions."""
        return (self.C, self.V, self.CI, self.VI, self.SV)

    def greedy_slots(self) -> np.ndarray:
        """G[node, t, s]: the ordered greedy child slot of every Max node (Navigate per target) in every
        state (-1 where no child is available)."""
        out = -np.ones((4, 4, 500), dtype=np.int64)
        for node in range(4):
            for t in range(4 if node == NAV else 1):
                for s in range(500):
                    out[node, t, s] = greedy_slot(node, t, s, *self.args)
        return out


def train(env, n_steps: int, abstract: bool, alpha: float, init: float, t0: float, cooling, t_floor: float,
          gamma: float = 1.0, greedy_l0: int = 0, greedy_dl: int = 0, max_episode_steps: int = 100_000,
          seed: int = 0) -> dict:
    """Python entry point: one run on the Taxi variant ``env`` (:class:`hrlmeta.envs.taxi.Taxi`)."""
    c_sizes, v_sizes = table_sizes(abstract)
    CI, VI, SV = index_tables(abstract, env.cell_landmark)
    cooling = np.asarray(cooling, dtype=np.float64)
    if cooling.shape != (4,):
        raise ValueError(f"cooling must give 4 rates (Root, Get, Put, Navigate), got {cooling!r}")
    max_episodes = int(n_steps) + 1
    out = run(env.move_k, env.landmark_cell, env.cell_landmark, env.rewards, env.fickle_prob,
              env.drop_elsewhere, env.start_states, CI, VI, SV, int(c_sizes.sum()), int(v_sizes.sum()),
              int(n_steps), max_episodes, int(max_episode_steps), float(alpha), float(gamma), float(init),
              float(t0), cooling, float(t_floor), int(greedy_l0), int(greedy_dl), int(seed) % (2**32))
    steps, rets, succ, decs, C, V = out
    return {"steps": steps, "return": rets, "success": succ, "decisions": decs,
            "tables": Tables(C, V, abstract, env.cell_landmark)}
