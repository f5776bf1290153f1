"""Exact solutions of tabular goal-reaching tasks with primitive actions and Markov options.

Everything here is computed exactly (value iteration to machine precision and direct linear solves), so
the learning agents and the claims can be checked against it.

* :func:`primitive_values` -- value iteration over primitive actions; the goal is terminal (value 0) and
  pays +1 on arrival.
* :func:`option_models` -- the multi-time models of Sutton, Precup & Singh (1999), Eqs. (7)-(8), for
  options with deterministic policies and 0/1 termination:
  ``R[o, s] = E[r_1 + gamma r_2 + ... + gamma^(k-1) r_k]`` and
  ``Pd[o, s, x] = sum_k gamma^k Pr(o stops in x after k steps)``, obtained by solving
  ``(I - gamma M C) R = M e_goal`` and ``(I - gamma M C) Pd = gamma M T``, where ``M`` is the transition
  matrix under the option's policy, ``C = diag(continue)`` and ``T = diag(stop)`` (the option stops where
  beta = 1 and at the goal). The undiscounted versions (gamma = 1) give the termination distribution
  ``P1`` and the expected duration ``D = (I - M C)^-1 1`` in primitive steps.
* :func:`smdp_values` -- SMDP value iteration over an option set using those models (Eq. (11)).
* :func:`expected_steps` -- expected primitive steps to the goal of a (deterministic or stochastic) policy
  over options (primitives are one-step options), by solving the absorbing chain ``E = D_pi + P1_pi E``
  exactly (numba-compiled, single-threaded Gaussian elimination: see :func:`_solve`).
* :func:`solve_task` / :func:`fourrooms_oracle` -- the numbers the experiment and ``hrlmeta oracle`` report.

Greedy policies share probability uniformly among options whose values tie (within ``1e-12`` for the
oracle's own values, exactly for learned tables), as the agents' greedy choice does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TIE_TOL = 1e-12


def _solve(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve ``A X = B`` by Gaussian elimination with partial pivoting, compiled with numba and
    single-threaded: the systems here are ~100 x 100, where a multi-threaded BLAS/LAPACK spends far
    longer synchronising threads than solving."""
    global _solve_jit
    if _solve_jit is None:
        from numba import njit

        _solve_jit = njit(cache=True)(_gauss_solve)
    A = np.ascontiguousarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    if B.ndim == 1:
        return _solve_jit(A, np.ascontiguousarray(B[:, None]))[:, 0]
    return _solve_jit(A, np.ascontiguousarray(B))


def _gauss_solve(A, B):
    n = A.shape[0]
    M = A.copy()
    X = B.copy()
    m = X.shape[1]
    for k in range(n):
        p = k
        big = abs(M[k, k])
        for i in range(k + 1, n):
            if abs(M[i, k]) > big:
                big = abs(M[i, k])
                p = i
        if big == 0.0:
            raise ValueError("singular matrix")
        if p != k:
            for j in range(n):
                M[k, j], M[p, j] = M[p, j], M[k, j]
            for j in range(m):
                X[k, j], X[p, j] = X[p, j], X[k, j]
        piv = M[k, k]
        for i in range(k + 1, n):
            f = M[i, k] / piv
            if f != 0.0:
                for j in range(k + 1, n):
                    M[i, j] -= f * M[k, j]
                for j in range(m):
                    X[i, j] -= f * X[k, j]
    for k in range(n - 1, -1, -1):
        for j in range(m):
            s = X[k, j]
            for i in range(k + 1, n):
                s -= M[k, i] * X[i, j]
            X[k, j] = s / M[k, k]
    return X


_solve_jit = None


@dataclass
class OptionModels:
    """Exact multi-time models of an option set for one goal (entries for s not in I_o are NaN / 0)."""

    R: np.ndarray  # (O, S) discounted reward
    Pd: np.ndarray  # (O, S, S) discounted termination distribution
    P1: np.ndarray  # (O, S, S) termination distribution (undiscounted)
    D: np.ndarray  # (O, S) expected duration in primitive steps
    init: np.ndarray  # (O, S) bool: s in I_o
    goal: int
    gamma: float


def primitive_values(P: np.ndarray, goal: int, gamma: float, tol: float = 1e-14, max_iter: int = 100_000):
    """Optimal values over primitive actions. ``P``: (A, S, S). Returns (V (S,), Q (S, A)).

    Reward +1 on arrival at ``goal``; ``goal`` is terminal (V = 0 there).
    """
    P = np.asarray(P, dtype=float)
    n_a, n, _ = P.shape
    r = P[:, :, goal].T  # (S, A) expected immediate reward
    cont = np.ones(n)
    cont[goal] = 0.0
    V = np.zeros(n)
    for _ in range(max_iter):
        Q = r + gamma * np.einsum("ast,t->sa", P, cont * V)
        Vn = Q.max(axis=1)
        Vn[goal] = 0.0
        if np.max(np.abs(Vn - V)) < tol:
            V = Vn
            break
        V = Vn
    else:  # pragma: no cover
        raise RuntimeError("value iteration did not converge")
    Q = r + gamma * np.einsum("ast,t->sa", P, cont * V)
    Q[goal] = 0.0
    return V, Q


def option_models(P: np.ndarray, act: np.ndarray, beta: np.ndarray, goal: int, gamma: float) -> OptionModels:
    """Exact models of options with deterministic policies ``act[o, s]`` (-1 outside I_o) and 0/1
    termination ``beta[o, s]``; reaching ``goal`` pays +1 and stops the option (and the episode)."""
    P = np.asarray(P, dtype=float)
    act = np.asarray(act)
    beta = np.asarray(beta)
    n_o, n = act.shape
    eye = np.eye(n)
    R = np.full((n_o, n), np.nan)
    D = np.full((n_o, n), np.nan)
    Pd = np.zeros((n_o, n, n))
    P1 = np.zeros((n_o, n, n))
    init = act >= 0
    for o in range(n_o):
        M = np.zeros((n, n))
        rows = np.flatnonzero(init[o])
        M[rows] = P[act[o, rows], rows]
        cont = (beta[o] == 0).astype(float)
        cont[goal] = 0.0
        stop = 1.0 - cont
        MC, MT = M * cont[None, :], M * stop[None, :]
        A_g = eye - gamma * MC
        A_1 = eye - MC
        R[o] = _solve(A_g, M[:, goal])
        Pd[o] = _solve(A_g, gamma * MT)
        P1[o] = _solve(A_1, MT)
        D[o] = _solve(A_1, M.sum(axis=1))
        R[o, ~init[o]] = np.nan
        D[o, ~init[o]] = np.nan
        Pd[o, ~init[o]] = 0.0
        P1[o, ~init[o]] = 0.0
    return OptionModels(R=R, Pd=Pd, P1=P1, D=D, init=init, goal=goal, gamma=gamma)


def smdp_q(models: OptionModels, V: np.ndarray) -> np.ndarray:
    """Option values Q(s, o) = R + Pd V (NaN where o is not available, 0 at the goal)."""
    Q = (models.R + np.einsum("ost,t->os", models.Pd, V)).T
    Q[~models.init.T] = np.nan
    Q[models.goal] = 0.0
    return Q


def smdp_values(models: OptionModels, tol: float = 1e-14, max_iter: int = 100_000):
    """SMDP value iteration over the option set. Returns (V (S,), Q (S, O))."""
    n = models.R.shape[1]
    V = np.zeros(n)
    for _ in range(max_iter):
        Q = smdp_q(models, V)
        Vn = np.nanmax(np.where(np.isnan(Q), -np.inf, Q), axis=1)
        Vn[models.goal] = 0.0
        if np.max(np.abs(Vn - V)) < tol:
            V = Vn
            break
        V = Vn
    else:  # pragma: no cover
        raise RuntimeError("SMDP value iteration did not converge")
    return V, smdp_q(models, V)


def greedy(Q: np.ndarray, tol: float = TIE_TOL) -> np.ndarray:
    """Greedy policy as a (S, O) distribution: uniform over the available options within ``tol`` of the
    best value (NaN = unavailable) -- the agents' own greedy choice breaks ties uniformly at random."""
    Qm = np.where(np.isnan(Q), -np.inf, Q)
    best = Qm.max(axis=1, keepdims=True)
    tied = (Qm >= best - tol) & np.isfinite(Qm)
    return tied / tied.sum(axis=1, keepdims=True)


def greedy_from_table(Q: np.ndarray, init: np.ndarray, tol: float = 0.0) -> np.ndarray:
    """Greedy distribution of a learned table ``Q`` (S, O) restricted to available options
    (``init`` (O, S) bool); exact ties (``tol`` = 0) share the probability uniformly."""
    Qn = np.where(init.T, Q, np.nan)
    return greedy(Qn, tol)


def expected_steps(models: OptionModels, policy: np.ndarray) -> np.ndarray:
    """Expected primitive steps to the goal from every state under an SMDP ``policy``: either one
    option per state (S,) or a distribution over options (S, O). ``inf`` where the goal is not reached
    with probability 1. Solves the absorbing chain ``E = D_pi + P1_pi E`` exactly."""
    n_o, n = models.R.shape
    idx = np.arange(n)
    policy = np.asarray(policy)
    if policy.ndim == 1:
        pi = np.zeros((n, n_o))
        pi[idx, policy] = 1.0
    else:
        pi = np.asarray(policy, dtype=float)
    pi = pi.copy()
    pi[models.goal] = 0.0
    bad_mask = ((pi > 0) & ~models.init.T).any(axis=1)
    if bad_mask.any():
        bad = int(np.flatnonzero(bad_mask)[0])
        raise ValueError(f"policy uses an option in state {bad} outside that option's initiation set")
    D = np.nan_to_num(models.D.T)  # (S, O)
    P1 = np.einsum("so,ost->st", pi, models.P1)
    Dpi = (pi * D).sum(axis=1)
    keep = idx != models.goal
    # states from which the goal is reachable at all
    reach = np.zeros(n, dtype=bool)
    reach[models.goal] = True
    while True:
        new = reach | (P1[:, reach].sum(axis=1) > 0)
        if (new == reach).all():
            break
        reach = new
    # states that can move to a state that never reaches the goal also fail with positive probability;
    # iterate: a state is "sure" if all its successors are sure (or the goal)
    sure = reach.copy()
    while True:
        leaks = (P1[:, ~sure].sum(axis=1) > 1e-15) & keep
        new = sure & ~leaks
        if (new == sure).all():
            break
        sure = new
    ok = keep & sure
    out = np.full(n, np.inf)
    out[models.goal] = 0.0
    A = np.eye(int(ok.sum())) - P1[np.ix_(ok, ok)]
    out[ok] = _solve(A, Dpi[ok])
    return out


def primitive_option_arrays(n_states: int, n_actions: int):
    act = np.tile(np.arange(n_actions)[:, None], (1, n_states))
    return act, np.ones((n_actions, n_states), dtype=np.uint8)


def solve_task(P: np.ndarray, goal: int, start: int, gamma: float, option_sets: dict | None = None) -> dict:
    """Optimal values and optimal expected steps from ``start`` over primitives, and over each option set
    ``{name: (act, beta)}`` given."""
    n_a, n, _ = P.shape
    V, Q = primitive_values(P, goal, gamma)
    act, beta = primitive_option_arrays(n, n_a)
    prim = option_models(P, act, beta, goal, gamma)
    pol = greedy(Q)
    steps = expected_steps(prim, pol)
    out = {
        "value_start": float(V[start]),
        "expected_steps": float(steps[start]),
        "V": V,
        "Q": Q,
        "policy": pol,
        "steps": steps,
        "option_sets": {},
    }
    for name, (o_act, o_beta) in (option_sets or {}).items():
        models = option_models(P, o_act, o_beta, goal, gamma)
        Vo, Qo = smdp_values(models)
        pol_o = greedy(Qo)
        steps_o = expected_steps(models, pol_o)
        out["option_sets"][name] = {
            "value_start": float(Vo[start]),
            "expected_steps": float(steps_o[start]),
            "V": Vo,
            "Q": Qo,
            "policy": pol_o,
            "steps": steps_o,
            "models": models,
        }
    return out


def fourrooms_oracle(goals: dict, gamma: float = 0.9, success_prob: float = 2 / 3) -> dict:
    """Exact optimum of the rooms task for each goal ``{name: (row, col)}``: JSON-ready numbers.

    ``optimal_expected_steps[g]``: expected primitive steps from the start under the optimal policy over
    primitive actions; ``optimal_value_start[g]``; and the same over the option sets H and A u H
    (``smdp``: the best an agent restricted to those options can do).
    """
    from ..envs.fourrooms import make_fourrooms, option_set

    env = make_fourrooms(success_prob)
    sets = {k: option_set(env, k) for k in ("H", "AH")}
    res = {
        "optimal_expected_steps": {},
        "optimal_value_start": {},
        "shortest_path_length": {},
        "smdp": {k: {"expected_steps": {}, "value_start": {}} for k in sets},
    }
    for name, cell in goals.items():
        g = env.state(cell)
        sol = solve_task(env.P, g, env.start, gamma, {k: (v.act, v.beta) for k, v in sets.items()})
        res["optimal_expected_steps"][name] = sol["expected_steps"]
        res["optimal_value_start"][name] = sol["value_start"]
        res["shortest_path_length"][name] = shortest_path_length(env.move_to, env.start, g)
        for k in sets:
            res["smdp"][k]["expected_steps"][name] = sol["option_sets"][k]["expected_steps"]
            res["smdp"][k]["value_start"][name] = sol["option_sets"][k]["value_start"]
    return res


def shortest_path_length(move_to: np.ndarray, start: int, goal: int) -> int:
    """BFS distance under deterministic moves (``move_to[s, a]``)."""
    dist = {start: 0}
    frontier = [start]
    while frontier:
        nxt = []
        for s in frontier:
            if s == goal:
                return dist[s]
            for s2 in move_to[s]:
                s2 = int(s2)
                if s2 not in dist:
                    dist[s2] = dist[s] + 1
                    nxt.append(s2)
        frontier = nxt
    return -1
