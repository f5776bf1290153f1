"""Boltzmann (softmax) exploration, the GLIE policy of Dietterich (2000), Sec. 7: choose action a with
probability proportional to exp(Q(a) / T); the temperature T is cooled multiplicatively. Compiled with
numba and called from the compiled Taxi agents (:mod:`.taxi_flat_q`, :mod:`.maxq_q`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def boltzmann(q, n, temperature):
    """Index in 0..n-1 drawn with probability proportional to exp(q[i] / temperature) (numerically:
    exp((q[i] - max q) / temperature)); one uniform draw from numba's seeded generator."""
    best = q[0]
    for i in range(1, n):
        if q[i] > best:
            best = q[i]
    total = 0.0
    for i in range(n):
        total += np.exp((q[i] - best) / temperature)
    u = np.random.random() * total
    acc = 0.0
    for i in range(n - 1):  # second pass recomputes the weights instead of allocating them
        acc += np.exp((q[i] - best) / temperature)
        if u < acc:
            return i
    return n - 1


def check_rate(name: str, value: float) -> float:
    """A learning rate must lie in (0, 1]; raises ValueError naming ``name`` otherwise."""
    v = float(value)
    if not 0.0 < v <= 1.0:
        raise ValueError(f"{name}: learning rate must be in (0, 1], got {value!r}")
    return v


def check_temperature(name: str, t0: float, cooling: float, floor: float) -> None:
    if not t0 > 0:
        raise ValueError(f"{name}: initial temperature must be > 0, got {t0!r}")
    if not 0.0 < cooling <= 1.0:
        raise ValueError(f"{name}: cooling rate must be in (0, 1], got {cooling!r}")
    if not 0.0 < floor <= t0:
        raise ValueError(f"{name}: temperature floor must be in (0, initial temperature], got {floor!r}")
