"""The rooms gridworld of Sutton, Precup & Singh (1999), "Between MDPs and semi-MDPs: A framework for
temporal abstraction in reinforcement learning", Artificial Intelligence 112:181-211, Section 3 / Fig. 2,
and its eight hallway options.

Environment (as the paper states it)
------------------------------------
* 13 x 13 grid with an outer wall; the free cells form four rooms joined by four one-cell hallways:
  104 states (25 + 30 + 25 + 20 room cells + 4 hallways).
* Four primitive actions ``up``, ``down``, ``left``, ``right``. "With probability 2/3 the actions cause
  the agent to move one cell in the corresponding direction, and with probability 1/3 the agent moves
  instead in one of the other three directions, each with probability 1/9. In either case, if the
  movement would take the agent into a wall then the agent remains in the same cell."
* Reward +1 on arrival at the goal state (0 on every other transition); the goal ends the episode;
  discount gamma = 0.9 (the agents and the oracle take gamma as a parameter).
* Start state: the upper-left corner cell, grid (1, 1) (Section 3.2: "The initial state of each episode
  was in the upper-left corner"). Goals: G1 is the east hallway, grid (7, 9); G2 is a cell inside a room
  (see ``DEFAULT_GOALS`` and the experiment's config).

Coordinates are (row, col) in the 13 x 13 layout below, row 0 at the top. States are the free cells
numbered row-major.

Hallway options (Section 3, "8 multi-step options (to each room's 2 hallways)")
--------------------------------------------------------------------------------
For each room and each of its two hallways there is one option ``o = (I, pi, beta)``:

* ``I``: the room's cells plus the room's *other* hallway ("the initiation set comprises the states
  within the room plus the non-target hallway state leading into the room");
* ``pi``: a deterministic intended action on ``I`` that follows a shortest path (deterministic moves,
  inside the room) to the target hallway; among shortest-path actions it minimises the probability of
  stumbling into the other hallway under the stochastic dynamics (the paper: "the policy ... follows
  the shortest path within the room to the target hallway while minimizing the chance of stumbling
  into the other hallway"), ties broken in the fixed order up, down, left, right;
* ``beta``: "zero for states s within the room and 1 for states outside the room, including the
  hallway states" -- so the option stops at its target hallway, and also if it slips into the other
  hallway or (from the other hallway) back into the neighbouring room. ``beta`` only applies after the
  first step, so the option can start in its other hallway. (We follow the paper's text here: beta is
  1 at *both* hallways, not 0 at the non-target hallway.)

Simulation tables
-----------------
The stochastic move is sampled with one uniform draw: ``next_k[s, a, k]`` is the next state for
``k = floor(u * K)``, where ``K`` is the smallest integer that makes every outcome probability a multiple
of 1/K (K = 9 for success probability 2/3: six slots for the intended direction, one for each other).
This table is exact, not an approximation, and the agents index it with integers only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

#: The paper's Fig. 2 layout ('w' = wall).
LAYOUT = (
    "wwwwwwwwwwwww\n"
    "w     w     w\n"
    "w     w     w\n"
    "w           w\n"
    "w     w     w\n"
    "w     w     w\n"
    "ww wwww     w\n"
    "w     www www\n"
    "w     w     w\n"
    "w     w     w\n"
    "w           w\n"
    "w     w     w\n"
    "wwwwwwwwwwwww"
)
#: hallways: north (upper-left <-> upper-right), west (upper-left <-> lower-left),
#: east (upper-right <-> lower-right), south (lower-left <-> lower-right)
HALLWAYS: tuple[tuple[int, int], ...] = ((3, 6), (6, 2), (7, 9), (10, 6))
START: tuple[int, int] = (1, 1)
#: G1 = the east hallway (Fig. 2). G2: see the experiment config (CHOICE documented there).
DEFAULT_GOALS: dict[str, tuple[int, int]] = {"G1": (7, 9), "G2": (9, 9)}

ACTIONS = ("up", "down", "left", "right")
MOVES = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)], dtype=np.int64)
ENV_NAME = "FourRooms-SuttonPrecupSingh1999"


def _slip_resolution(success_prob: float, n_actions: int, max_k: int = 1000) -> tuple[int, int]:
    """Smallest K with success_prob*K and (1-success_prob)/(n_actions-1)*K integers -> (K, slots of success)."""
    p = Fraction(success_prob).limit_denominator(max_k)
    if abs(float(p) - success_prob) > 1e-12:
        raise ValueError(f"success_prob={success_prob!r} is not a fraction with denominator <= {max_k}")
    if not 0 < p <= 1:
        raise ValueError(f"success_prob must be in (0, 1], got {success_prob!r}")
    other = (1 - p) / (n_actions - 1)
    for k in range(1, max_k + 1):
        if (p * k).denominator == 1 and (other * k).denominator == 1:
            return k, int(p * k)
    raise ValueError(f"no exact sampling table for success_prob={success_prob!r}")  # pragma: no cover


@dataclass
class GridWorld:
    """A tabular gridworld: integer states, exact transition matrices and the sampling table."""

    layout: str
    success_prob: float
    grid: np.ndarray  # (H, W) bool, True = free
    cells: np.ndarray  # (S, 2) row, col of each state
    state_of: dict  # (row, col) -> state
    move_to: np.ndarray  # (S, 4) deterministic successor of each direction (walls: stay)
    P: np.ndarray  # (4, S, S) exact transition probabilities P[a, s, s']
    next_k: np.ndarray  # (S, 4, K) int32 sampling table
    start: int
    hallways: tuple[int, ...] = ()
    rooms: tuple[tuple[int, ...], ...] = ()
    name: str = ENV_NAME
    extra: dict = field(default_factory=dict)

    @property
    def n_states(self) -> int:
        return int(self.cells.shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.move_to.shape[1])

    def state(self, cell) -> int:
        cell = tuple(int(c) for c in cell)
        if cell not in self.state_of:
            raise ValueError(f"cell {cell} is not a free cell of the grid")
        return self.state_of[cell]


#: stochastic dynamics a gridworld can have (see :func:`make_grid`)
DYNAMICS = ("sutton", "fail_to_neighbour", "move_then_slip")


def make_grid(layout: str, success_prob: float = 2 / 3, start=(1, 1), name: str = ENV_NAME,
              dynamics: str = "sutton") -> GridWorld:
    """Build a gridworld from a layout string ('w' wall, anything else free).

    ``dynamics`` (with p = ``success_prob``):

    * ``sutton`` (Sutton, Precup & Singh 1999): the intended direction w.p. p, each other direction
      w.p. (1 - p) / 3; a move into a wall leaves the agent in place.
    * ``fail_to_neighbour`` (Bacon, Harb & Precup 2017, the paper's text: "primitive movements can fail
      with probability 1/3, in which case the agent transitions randomly to one of the empty adjacent
      cells"): the intended move w.p. p (a wall: stay), otherwise a uniformly random free neighbour.
    * ``move_then_slip`` (the Option-Critic authors' released ``fourrooms.py``): if the intended cell is
      free the agent moves there and then, w.p. 1 - p, on to a uniformly random free neighbour of that
      new cell; a move into a wall leaves the agent in place (no slip).

    The sampling table ``next_k`` is exact in every case (K equiprobable slots per (s, a)).
    """
    if dynamics not in DYNAMICS:
        raise ValueError(f"dynamics must be one of {DYNAMICS}, got {dynamics!r}")
    if dynamics != "sutton":
        return _make_grid_neighbour(layout, success_prob, start, name, dynamics)
    rows = layout.split("\n")
    width = max(len(r) for r in rows)
    grid = np.array([[c != "w" for c in r.ljust(width, "w")] for r in rows], dtype=bool)
    cells = np.argwhere(grid)
    state_of = {(int(r), int(c)): i for i, (r, c) in enumerate(cells)}
    n = len(cells)
    move_to = np.empty((n, 4), dtype=np.int64)
    for s, (r, c) in enumerate(cells):
        for a, (dr, dc) in enumerate(MOVES):
            rr, cc = r + dr, c + dc
            free = 0 <= rr < grid.shape[0] and 0 <= cc < grid.shape[1] and grid[rr, cc]
            move_to[s, a] = state_of[(int(rr), int(cc))] if free else s
    k, k_ok = _slip_resolution(success_prob, 4)
    k_other = (k - k_ok) // 3
    # direction of each of the K equiprobable slots, per intended action
    slots = np.empty((4, k), dtype=np.int64)
    for a in range(4):
        others = [d for d in range(4) if d != a]
        slots[a, :k_ok] = a
        for j, d in enumerate(others):
            slots[a, k_ok + j * k_other : k_ok + (j + 1) * k_other] = d
    next_k = move_to[:, slots].astype(np.int32)  # (S, 4, K)
    P = np.zeros((4, n, n))
    for a in range(4):
        for j in range(k):
            np.add.at(P[a], (np.arange(n), next_k[:, a, j]), 1.0 / k)
    return GridWorld(
        layout=layout,
        success_prob=float(success_prob),
        grid=grid,
        cells=cells,
        state_of=state_of,
        move_to=move_to,
        P=P,
        next_k=np.ascontiguousarray(next_k),
        start=state_of[tuple(start)],
        name=name,
    )


def _make_grid_neighbour(layout: str, success_prob: float, start, name: str, dynamics: str) -> GridWorld:
    """``make_grid`` for the dynamics whose slips go to a random free neighbour (exact rational table)."""
    import math

    base = make_grid(layout, 1.0, start, name)  # deterministic moves: move_to, cells, grid
    p = Fraction(success_prob).limit_denominator(1000)
    if abs(float(p) - success_prob) > 1e-12 or not 0 < p <= 1:
        raise ValueError(f"success_prob={success_prob!r} must be a fraction in (0, 1] with denominator <= 1000")
    n = base.n_states
    move_to = base.move_to
    nbrs = [sorted({int(x) for x in move_to[s] if int(x) != s}) for s in range(n)]
    if any(not nb for nb in nbrs):
        raise ValueError("fail_to_neighbour / move_then_slip dynamics need every free cell to have a free neighbour")
    probs = []  # (s, a) -> {s': Fraction}
    for s in range(n):
        row = []
        for a in range(4):
            d: dict[int, Fraction] = {}
            t = int(move_to[s, a])
            if dynamics == "fail_to_neighbour":
                d[t] = d.get(t, Fraction(0)) + p
                for s2 in nbrs[s]:
                    d[s2] = d.get(s2, Fraction(0)) + (1 - p) / len(nbrs[s])
            elif t == s:  # move_then_slip into a wall: stay, no slip
                d[s] = Fraction(1)
            else:
                d[t] = d.get(t, Fraction(0)) + p
                for s2 in nbrs[t]:
                    d[s2] = d.get(s2, Fraction(0)) + (1 - p) / len(nbrs[t])
            row.append({k: v for k, v in d.items() if v > 0})
        probs.append(row)
    k = 1
    for row in probs:
        for d in row:
            for v in d.values():
                k = k * v.denominator // math.gcd(k, v.denominator)
    next_k = np.empty((n, 4, k), dtype=np.int32)
    P = np.zeros((4, n, n))
    for s in range(n):
        for a in range(4):
            j = 0
            for s2 in sorted(probs[s][a]):
                m = int(probs[s][a][s2] * k)
                next_k[s, a, j : j + m] = s2
                P[a, s, s2] = m / k
                j += m
            assert j == k
    base.success_prob = float(success_prob)
    base.P = P
    base.next_k = np.ascontiguousarray(next_k)
    base.extra["dynamics"] = dynamics
    return base


def make_fourrooms(success_prob: float = 2 / 3, dynamics: str = "sutton") -> GridWorld:
    """The paper's rooms gridworld (104 states, 4 hallways, 4 rooms); ``dynamics``: see :func:`make_grid`."""
    env = make_grid(LAYOUT, success_prob, START, dynamics=dynamics)
    hall = tuple(env.state(h) for h in HALLWAYS)
    # rooms: connected components of the free cells once the hallways are removed
    free = set(range(env.n_states)) - set(hall)
    rooms = []
    while free:
        seed = min(free)
        comp, stack = {seed}, [seed]
        while stack:
            s = stack.pop()
            for s2 in env.move_to[s]:
                s2 = int(s2)
                if s2 in free and s2 not in comp:
                    comp.add(s2)
                    stack.append(s2)
        free -= comp
        rooms.append(tuple(sorted(comp)))
    rooms.sort(key=lambda r: (tuple(env.cells[r[0]])))
    env.hallways = hall
    env.rooms = tuple(rooms)
    return env


def states_within(env: GridWorld, sources, radius: int) -> set[int]:
    """States within ``radius`` deterministic moves (4-neighbourhood) of any state in ``sources``."""
    near = {int(s) for s in sources}
    frontier = set(near)
    for _ in range(int(radius)):
        frontier = {int(x) for s in frontier for x in env.move_to[s]} - near
        near |= frontier
    return near


# ----------------------------------------------------------------------------------------------
# options
# ----------------------------------------------------------------------------------------------


@dataclass
class OptionSet:
    """Markov options with deterministic policies and 0/1 termination, as integer arrays.

    ``act[o, s]``: intended primitive action of option o in s, -1 where s is not in I_o;
    ``beta[o, s]``: 1 where o terminates on arriving in s, else 0;
    ``avail[s, :n_avail[s]]``: the options whose initiation set contains s;
    ``consistent[s, a, :n_consistent[s, a]]``: the options whose policy takes action a in s
    (the options an intra-option update learns about from a transition (s, a, s')).
    """

    names: tuple[str, ...]
    act: np.ndarray
    beta: np.ndarray
    target: tuple[int, ...]  # target hallway state (-1 for primitive actions)
    avail: np.ndarray = None
    n_avail: np.ndarray = None
    consistent: np.ndarray = None
    n_consistent: np.ndarray = None

    def __post_init__(self):
        self.act = np.ascontiguousarray(self.act, dtype=np.int64)
        self.beta = np.ascontiguousarray(self.beta, dtype=np.uint8)
        n_opt, n_states = self.act.shape
        if self.beta.shape != self.act.shape:
            raise ValueError(f"beta has shape {self.beta.shape}, act has {self.act.shape}")
        init = self.act >= 0
        bad = (self.beta == 0) & ~init
        if bad.any():
            o, s = (int(x[0]) for x in np.nonzero(bad))
            raise ValueError(f"option {o} continues (beta = 0) in state {s} where its policy is undefined")
        n_av = init.sum(axis=0)
        if (n_av == 0).any():
            bad = int(np.flatnonzero(n_av == 0)[0])
            raise ValueError(f"state {bad} has no available option")
        avail = -np.ones((n_states, int(n_av.max())), dtype=np.int64)
        for s in range(n_states):
            o = np.flatnonzero(init[:, s])
            avail[s, : len(o)] = o
        n_actions = int(self.act.max()) + 1
        cons_lists = [[[o for o in range(n_opt) if self.act[o, s] == a] for a in range(n_actions)]
                      for s in range(n_states)]
        width = max(1, max(len(c) for row in cons_lists for c in row))
        cons = -np.ones((n_states, n_actions, width), dtype=np.int64)
        n_cons = np.zeros((n_states, n_actions), dtype=np.int64)
        for s in range(n_states):
            for a in range(n_actions):
                c = cons_lists[s][a]
                cons[s, a, : len(c)] = c
                n_cons[s, a] = len(c)
        self.avail, self.n_avail = avail, n_av.astype(np.int64)
        self.consistent, self.n_consistent = cons, n_cons

    @property
    def n_options(self) -> int:
        return int(self.act.shape[0])

    def initiation(self, o: int) -> np.ndarray:
        return np.flatnonzero(self.act[o] >= 0)

    def __add__(self, other: "OptionSet") -> "OptionSet":
        return OptionSet(
            names=self.names + other.names,
            act=np.vstack([self.act, other.act]),
            beta=np.vstack([self.beta, other.beta]),
            target=self.target + other.target,
        )


def primitive_options(env: GridWorld) -> OptionSet:
    """The primitive actions as one-step options: I = all states, pi = the action, beta = 1."""
    n = env.n_states
    act = np.tile(np.arange(env.n_actions)[:, None], (1, n))
    return OptionSet(names=ACTIONS[: env.n_actions], act=act, beta=np.ones((env.n_actions, n)),
                     target=(-1,) * env.n_actions)


def _bfs(env: GridWorld, source: int, region: set[int]) -> dict[int, int]:
    """Deterministic-move distances from ``source`` inside ``region`` (expanding from room cells only)."""
    dist = {source: 0}
    frontier = [source]
    while frontier:
        nxt = []
        for s in frontier:
            for s2 in env.move_to[s]:
                s2 = int(s2)
                if s2 in region and s2 not in dist:
                    dist[s2] = dist[s] + 1
                    nxt.append(s2)
        frontier = nxt
    return dist


def _hallway_policy(env: GridWorld, room: tuple[int, ...], target: int, other: int) -> dict[int, int]:
    """Shortest path to ``target`` within the room; among shortest-path actions the one that minimises the
    probability of reaching ``other`` before ``target`` (value iteration on that reachability problem)."""
    region = set(room) | {target, other}
    inner = set(room) | {target}
    dist = _bfs(env, target, inner)
    # from the other hallway: its in-room neighbours' distances + 1
    dist[other] = 1 + min(dist[int(s2)] for s2 in env.move_to[other] if int(s2) in room)
    states = sorted(set(room) | {other})
    good = {s: [a for a in range(4) if int(env.move_to[s, a]) in dist
                and dist[int(env.move_to[s, a])] == dist[s] - 1] for s in states}
    for s in states:
        if not good[s]:
            raise RuntimeError(f"no shortest-path action in state {s}")  # pragma: no cover
    # q(s) = probability of hitting `other` (from inside the room) before `target`, leaving the room = stop
    P = env.P
    q = {s: 0.0 for s in region}

    def after(s, a):  # probability of failure after taking a in s
        tot = 0.0
        for s2 in np.flatnonzero(P[a, s]):
            s2 = int(s2)
            p = P[a, s, s2]
            if s2 == other and s != other:
                tot += p
            elif s2 in room:
                tot += p * q[s2]
        return tot

    for _ in range(10_000):
        delta = 0.0
        for s in room:
            v = min(after(s, a) for a in good[s])
            delta = max(delta, abs(v - q[s]))
            q[s] = v
        if delta < 1e-14:
            break
    policy = {}
    for s in states:
        vals = [after(s, a) for a in good[s]]
        best = min(vals)
        policy[s] = next(a for a, v in zip(good[s], vals) if v <= best + 1e-12)
    return policy


def hallway_options(env: GridWorld) -> OptionSet:
    """The paper's 8 hallway options (2 per room), in room order, each room's hallways in state order."""
    if not env.rooms:
        raise ValueError("hallway options need the rooms gridworld (make_fourrooms)")
    n = env.n_states
    names, acts, betas, targets = [], [], [], []
    room_names = ("upper-left", "upper-right", "lower-left", "lower-right")
    for ri, room in enumerate(env.rooms):
        halls = [h for h in env.hallways if any(int(s2) in room for s2 in env.move_to[h])]
        if len(halls) != 2:
            raise RuntimeError(f"room {ri} touches {len(halls)} hallways, expected 2")  # pragma: no cover
        for target in halls:
            other = halls[0] if target == halls[1] else halls[1]
            pol = _hallway_policy(env, room, target, other)
            act = -np.ones(n, dtype=np.int64)
            for s, a in pol.items():
                act[s] = a
            beta = np.ones(n, dtype=np.uint8)
            beta[list(room)] = 0
            r, c = env.cells[target]
            names.append(f"{room_names[ri]}->hallway({r},{c})")
            acts.append(act)
            betas.append(beta)
            targets.append(target)
    return OptionSet(names=tuple(names), act=np.array(acts), beta=np.array(betas), target=tuple(targets))


def option_set(env: GridWorld, which: str) -> OptionSet:
    """``A`` (primitives), ``H`` (hallway options) or ``AH`` (both; primitives first)."""
    if which == "A":
        return primitive_options(env)
    if which == "H":
        return hallway_options(env)
    if which == "AH":
        return primitive_options(env) + hallway_options(env)
    raise ValueError(f"unknown option set {which!r}; choose A, H or AH")
