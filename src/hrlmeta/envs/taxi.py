"""The Taxi domain of Dietterich (2000), "Hierarchical Reinforcement Learning with the MAXQ Value Function
Decomposition", JAIR 13:227-303, Section 3.1 (Figure 1) and the "fickle taxi" of Section 7.1.

The task (as the paper states it)
---------------------------------
* A 5 x 5 grid with walls and four landmarks R(ed), G(reen), Y(ellow), B(lue). "In each episode, the
  taxi starts in a randomly-chosen square. There is a passenger at one of the four locations (chosen
  randomly), and that passenger wishes to be transported to one of the four locations (also chosen
  randomly)."  (See ``distinct_destination`` below.)
* Six primitive actions: South, North, East, West, Pickup, Putdown (numbered as in gymnasium's Taxi:
  0 south, 1 north, 2 east, 3 west, 4 pickup, 5 putdown).
* "There is a reward of -1 for each action and an additional reward of +20 for successfully delivering
  the passenger. There is a reward of -10 if the taxi attempts to execute the Putdown or Pickup actions
  illegally. If a navigation action would cause the taxi to hit a wall, the action is a no-op, and there
  is only the usual reward of -1." The episode ends when the passenger is put down at the destination.
  We read "an additional reward of +20" as a delivering Putdown worth -1 + 20 = +19 (``delivery_bonus``
  20 on top of ``step_reward`` -1) and an illegal Pickup/Putdown as -10 in total.
* Legal Pickup: the passenger is at the taxi's landmark. Legal Putdown: the passenger is in the taxi and
  the taxi is at the destination; a Putdown anywhere else is illegal (the paper: Putdown needs only two
  expected-reward values, "legal and illegal states", Sec. 5.1.2, so there is no third outcome such as
  gymnasium's "drop the passenger at another landmark"; ``wrong_landmark_putdown="drop"`` switches
  gymnasium's rule on for the cross-check).
* 500 states: 25 cells x 5 passenger locations (4 landmarks + in the taxi) x 4 destinations, encoded
  exactly as gymnasium's Taxi: ``((row * 5 + col) * 5 + passenger) * 4 + destination``.

Variants (Section 7.1)
----------------------
* ``move_success`` < 1 ("noisy"): "with probability 0.8 it moves in the intended direction, but with
  probability 0.1 it instead moves to the right (of the intended direction) and with probability 0.1 it
  moves to the left". A sideways move into a wall is a no-op like any other (gymnasium's rainy Taxi
  instead suppresses the sideways moves when the intended move is blocked; we follow the paper).
* ``fickle_prob`` > 0 ("fickle passenger"): "after the taxi has picked up the passenger and moved one
  square away from the passenger's source location, the passenger changes his or her destination location
  with probability 0.3." Implemented as: at the first primitive step after the pickup that changes the
  taxi's cell, with probability ``fickle_prob`` the destination is redrawn uniformly among the three other
  landmarks (CHOICE: the paper does not say how the new destination is drawn; uniform over the other
  landmarks is gymnasium's rule too). This happens at most once per episode. The learner sees the
  500-state observation only; the exact MDP (``aug_model``) adds one bit, ``pending``: "the passenger is
  in the taxi and the taxi has not moved since the pickup".

Simulation tables
-----------------
Moves are sampled with one uniform draw per step, exactly: ``move_k[cell, dir, k]`` is the successor cell
for the k-th of K equiprobable slots (K = 10 for 0.8 / 0.1 / 0.1). Everything the compiled agents need is
an integer/float array; :func:`step` is the compiled environment step.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numba import njit

#: gymnasium's map (the paper's Figure 1): ':' is an open border between cells, '|' a wall
MAP = (
    "+---------+",
    "|R: | : :G|",
    "| : | : : |",
    "| : : : : |",
    "| | : | : |",
    "|Y| : |B: |",
    "+---------+",
)
#: landmark cells (row, col) in the order R, G, Y, B (gymnasium's locs)
LANDMARKS: tuple[tuple[int, int], ...] = ((0, 0), (0, 4), (4, 0), (4, 3))
LANDMARK_NAMES = ("R", "G", "Y", "B")
ACTIONS = ("south", "north", "east", "west", "pickup", "putdown")
SOUTH, NORTH, EAST, WEST, PICKUP, PUTDOWN = range(6)
IN_TAXI = 4
N_CELLS, N_STATES, N_ACTIONS = 25, 500, 6
#: (drow, dcol) of each direction; the paper's "right"/"left" of a heading
DIRS = ((1, 0), (-1, 0), (0, 1), (0, -1))
RIGHT_OF = (WEST, EAST, SOUTH, NORTH)  # facing south, your right hand points west, ...
LEFT_OF = (EAST, WEST, NORTH, SOUTH)
ENV_NAME = "Taxi-Dietterich2000"

#: the named variants of the experiment: (move_success, fickle_prob); paper's Sec. 7.1 = noisy_fickle
VARIANTS: dict[str, tuple[float, float]] = {
    "deterministic": (1.0, 0.0),
    "noisy": (0.8, 0.0),
    "fickle": (1.0, 0.3),
    "noisy_fickle": (0.8, 0.3),
}


def encode(row: int, col: int, passenger: int, dest: int) -> int:
    return ((row * 5 + col) * 5 + passenger) * 4 + dest


def decode(s: int) -> tuple[int, int, int, int]:
    """(row, col, passenger, destination) of state ``s``."""
    dest = s % 4
    s //= 4
    passenger = s % 5
    s //= 5
    return s // 5, s % 5, passenger, dest


def _blocked(row: int, col: int, d: int) -> bool:
    """Does a wall (or the border) stop a move from (row, col) in direction d?"""
    dr, dc = DIRS[d]
    r2, c2 = row + dr, col + dc
    if not (0 <= r2 < 5 and 0 <= c2 < 5):
        return True
    if dc:  # east/west: the map character between the two cells
        return MAP[1 + row][2 * min(col, c2) + 2] != ":"
    return False


def move_table() -> np.ndarray:
    """(25, 4) successor cell of each deterministic move (walls: stay)."""
    out = np.empty((N_CELLS, 4), dtype=np.int64)
    for cell in range(N_CELLS):
        r, c = divmod(cell, 5)
        for d in range(4):
            dr, dc = DIRS[d]
            out[cell, d] = cell if _blocked(r, c, d) else (r + dr) * 5 + c + dc
    return out


def _slots(move_success: float, max_k: int = 1000) -> tuple[int, int]:
    """Smallest K with move_success * K and (1 - move_success) / 2 * K integers -> (K, intended slots)."""
    p = Fraction(move_success).limit_denominator(max_k)
    if abs(float(p) - move_success) > 1e-12 or not 0 < p <= 1:
        raise ValueError(f"move_success must be a fraction in (0, 1] with denominator <= {max_k}, "
                         f"got {move_success!r}")
    side = (1 - p) / 2
    for k in range(1, max_k + 1):
        if (p * k).denominator == 1 and (side * k).denominator == 1:
            return k, int(p * k)
    raise ValueError(f"no exact sampling table for move_success={move_success!r}")  # pragma: no cover


@dataclass(frozen=True)
class Taxi:
    """One variant of the Taxi domain as arrays (see module doc)."""

    move_success: float
    fickle_prob: float
    step_reward: float
    delivery_bonus: float
    illegal_reward: float
    wrong_landmark_putdown: str  # "illegal" (paper) | "drop" (gymnasium)
    distinct_destination: bool
    move_k: np.ndarray  # (25, 4, K) int64 successor cell per slot
    move_p: np.ndarray  # (25, 4, 25) exact probabilities of the successor cell
    landmark_cell: np.ndarray  # (4,) cell index of R, G, Y, B
    cell_landmark: np.ndarray  # (25,) landmark index of a cell, -1 elsewhere
    start_states: np.ndarray  # states of the start distribution (uniform over them)
    name: str = ENV_NAME

    @property
    def rewards(self) -> np.ndarray:
        """[step, delivery (total), illegal] as the compiled step uses them."""
        return np.array([self.step_reward, self.step_reward + self.delivery_bonus, self.illegal_reward])

    @property
    def drop_elsewhere(self) -> bool:
        return self.wrong_landmark_putdown == "drop"


def make_taxi(move_success: float = 0.8, fickle_prob: float = 0.3, step_reward: float = -1.0,
              delivery_bonus: float = 20.0, illegal_reward: float = -10.0,
              wrong_landmark_putdown: str = "illegal", distinct_destination: bool = True) -> Taxi:
    """Build a Taxi variant. Bad values raise ValueError naming the parameter."""
    if not 0.0 <= fickle_prob <= 1.0:
        raise ValueError(f"fickle_prob must be a probability in [0, 1], got {fickle_prob!r}")
    if not 0.0 < move_success <= 1.0:
        raise ValueError(f"move_success must be a probability in (0, 1], got {move_success!r}")
    if wrong_landmark_putdown not in ("illegal", "drop"):
        raise ValueError(f"wrong_landmark_putdown must be 'illegal' or 'drop', got {wrong_landmark_putdown!r}")
    k, k_ok = _slots(move_success)
    k_side = (k - k_ok) // 2
    mv = move_table()
    move_k = np.empty((N_CELLS, 4, k), dtype=np.int64)
    for d in range(4):
        dirs = [d] * k_ok + [RIGHT_OF[d]] * k_side + [LEFT_OF[d]] * k_side
        move_k[:, d, :] = mv[:, dirs]
    move_p = np.zeros((N_CELLS, 4, N_CELLS))
    for j in range(k):
        np.add.at(move_p, (np.arange(N_CELLS)[:, None], np.arange(4)[None, :], move_k[:, :, j]), 1.0 / k)
    landmark_cell = np.array([r * 5 + c for r, c in LANDMARKS], dtype=np.int64)
    cell_landmark = -np.ones(N_CELLS, dtype=np.int64)
    cell_landmark[landmark_cell] = np.arange(4)
    starts = [encode(r, c, p, d) for r in range(5) for c in range(5) for p in range(4) for d in range(4)
              if not (distinct_destination and p == d)]
    return Taxi(float(move_success), float(fickle_prob), float(step_reward), float(delivery_bonus),
                float(illegal_reward), wrong_landmark_putdown, bool(distinct_destination), move_k, move_p,
                landmark_cell, cell_landmark, np.array(starts, dtype=np.int64))


def make_variant(variant: str, **kw) -> Taxi:
    """One of :data:`VARIANTS` (unknown names raise ValueError naming ``variant``)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: unknown Taxi variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    ms, fp = VARIANTS[variant]
    kw.setdefault("move_success", ms)
    kw.setdefault("fickle_prob", fp)
    return make_taxi(**kw)


# ----------------------------------------------------------------------------------------------
# compiled step (used by every agent)
# ----------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def step(s, a, pending, move_k, landmark_cell, cell_landmark, rewards, fickle_prob, drop_elsewhere):
    """One primitive step from state ``s``: returns (s', reward, done, pending').

    ``pending``: the passenger is in the taxi and the taxi has not left its cell since the pickup (the
    fickle passenger's one-bit memory). Uses numba's seeded generator.
    """
    dest = s % 4
    passenger = (s // 4) % 5
    cell = s // 20
    if a < 4:
        cell2 = move_k[cell, a, int(np.random.random() * move_k.shape[2])]
        if pending and cell2 != cell:
            pending = False
            if fickle_prob > 0.0 and np.random.random() < fickle_prob:
                new = int(np.random.random() * 3)  # uniform over the three other landmarks
                dest = new if new < dest else new + 1
        return (cell2 * 5 + passenger) * 4 + dest, rewards[0], False, pending
    lm = cell_landmark[cell]
    if a == 4:  # pickup
        if passenger < 4 and lm == passenger:
            return (cell * 5 + 4) * 4 + dest, rewards[0], False, True
        return s, rewards[2], False, pending
    # putdown
    if passenger == 4 and lm == dest:
        return (cell * 5 + dest) * 4 + dest, rewards[1], True, False
    if passenger == 4 and drop_elsewhere and lm >= 0:
        return (cell * 5 + lm) * 4 + dest, rewards[0], False, False
    return s, rewards[2], False, pending


def step_args(env: Taxi) -> tuple:
    """The environment arguments of :func:`step` after (s, a, pending)."""
    return (env.move_k, env.landmark_cell, env.cell_landmark, env.rewards, env.fickle_prob, env.drop_elsewhere)


# ----------------------------------------------------------------------------------------------
# exact models
# ----------------------------------------------------------------------------------------------


def transitions(env: Taxi, s: int, a: int, pending: bool = False) -> list[tuple[float, int, float, bool, bool]]:
    """Exact outcomes of action ``a`` in (s, pending): [(prob, s', reward, done, pending')], merged."""
    row, col, passenger, dest = decode(s)
    cell = row * 5 + col
    r_step, r_deliver, r_illegal = env.rewards
    out: dict[tuple[int, bool, bool], list] = {}

    def add(p, s2, r, done, pend):
        key = (s2, done, pend)
        if key in out:
            out[key][0] += p
        else:
            out[key] = [p, r]

    if a < 4:
        for cell2 in np.flatnonzero(env.move_p[cell, a]):
            p = float(env.move_p[cell, a, cell2])
            cell2 = int(cell2)
            if pending and cell2 != cell:
                if env.fickle_prob > 0:
                    for d2 in range(4):
                        if d2 != dest:
                            add(p * env.fickle_prob / 3, (cell2 * 5 + passenger) * 4 + d2, r_step, False, False)
                if env.fickle_prob < 1:
                    add(p * (1 - env.fickle_prob), (cell2 * 5 + passenger) * 4 + dest, r_step, False, False)
            else:
                add(p, (cell2 * 5 + passenger) * 4 + dest, r_step, False, pending)
    else:
        s2, r, done, pend = step.py_func(s, a, pending, env.move_k, env.landmark_cell, env.cell_landmark,
                                         env.rewards, env.fickle_prob, env.drop_elsewhere)
        add(1.0, int(s2), float(r), bool(done), bool(pend))
    return [(v[0], k[0], float(v[1]), k[1], k[2]) for k, v in out.items()]


@dataclass(frozen=True)
class AugModel:
    """The exact MDP over augmented states x = (s, pending): ``x = s`` for pending False and
    ``x = 500 + j`` for the j-th state with the passenger in the taxi and pending True.

    ``P[a]``: (X, X) transition probabilities among non-terminal states; ``R[a, x]``: expected reward;
    ``done[a, x]``: probability that the episode ends; ``obs[x]``: the 500-state observation of x;
    ``start``: (X,) start distribution (pending False).
    """

    P: np.ndarray
    R: np.ndarray
    done: np.ndarray
    obs: np.ndarray
    pending: np.ndarray
    start: np.ndarray

    @property
    def n(self) -> int:
        return int(self.obs.shape[0])


def aug_model(env: Taxi) -> AugModel:
    """Exact augmented MDP of a variant (the pending bit only where the fickle passenger needs it)."""
    fickle = env.fickle_prob > 0
    in_taxi = [s for s in range(N_STATES) if decode(s)[2] == IN_TAXI] if fickle else []
    obs = np.r_[np.arange(N_STATES), np.array(in_taxi, dtype=np.int64)].astype(np.int64)
    pend = np.r_[np.zeros(N_STATES, bool), np.ones(len(in_taxi), bool)]
    index = {(int(s), bool(p)): x for x, (s, p) in enumerate(zip(obs, pend))}
    X = len(obs)
    P = np.zeros((N_ACTIONS, X, X))
    R = np.zeros((N_ACTIONS, X))
    D = np.zeros((N_ACTIONS, X))
    for x in range(X):
        for a in range(N_ACTIONS):
            for p, s2, r, done, p2 in transitions(env, int(obs[x]), a, bool(pend[x])):
                R[a, x] += p * r
                if done:
                    D[a, x] += p
                else:
                    P[a, x, index[(s2, p2 and fickle)]] += p
    start = np.zeros(X)
    start[env.start_states] = 1.0 / len(env.start_states)
    return AugModel(P=P, R=R, done=D, obs=obs, pending=pend, start=start)
