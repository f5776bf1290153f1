"""Exact solutions of the Taxi domain (:mod:`hrlmeta.envs.taxi`) on its augmented MDP (the 500 states plus
the fickle passenger's ``pending`` bit; see :func:`hrlmeta.envs.taxi.aug_model`).

* :func:`optimal_values` -- value iteration for the undiscounted episodic problem (proper: every policy
  that does not deliver pays -1 per step forever), the optimum over flat policies.
* :func:`hierarchy_models` -- the MAXQ task graph solved or evaluated bottom-up as semi-MDPs: every
  subtask's policy gives its *model* (expected reward until it terminates, distribution of the state it
  terminates in, probability that the episode ends), computed exactly by an absorbing-chain solve; the
  parent is an SMDP over its children's models. With ``choose=None`` every subtask picks its locally
  optimal child (SMDP value iteration given its children's policies, ties to the lowest child index, the
  paper's ordered greedy policy): the recursively optimal policy. With ``choose`` given (e.g. the greedy
  choices of learned C/V tables) the same code evaluates that hierarchical policy. Either way the root's
  value is the exact expected return of executing the hierarchical policy (call and return, Navigate's
  target bound at call time) on the real MDP.
* :func:`evaluate_flat` -- exact value of a stationary flat policy (a uniform random one included).

A policy that cannot finish from some state (e.g. a learned Get that repeats an illegal Pickup forever) is
*improper* there: its value is ``-inf`` (detected by reachability, never by a diverging solve).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...envs.taxi import IN_TAXI, AugModel, Taxi, aug_model

TIE_TOL = 1e-9


def optimal_values(model: AugModel, tol: float = 1e-12, max_iter: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """(V*, Q*) of the augmented MDP by value iteration from 0 (Q*[a, x])."""
    from scipy.sparse import csr_matrix

    P = [csr_matrix(p) for p in model.P]
    V = np.zeros(model.n)
    for _ in range(max_iter):
        Q = model.R + np.stack([p @ V for p in P])
        V2 = Q.max(axis=0)
        if np.max(np.abs(V2 - V)) < tol:
            return V2, model.R + model.P @ V2
        V = V2
    raise RuntimeError("value iteration did not converge")  # pragma: no cover


def _reach(adj: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """States that reach ``seed`` along positive-probability edges of ``adj`` (boolean fixed point)."""
    r = seed.copy()
    A = adj.astype(np.float64)
    while True:
        r2 = r | (A @ r.astype(np.float64) > 0)
        if (r2 == r).all():
            return r
        r = r2


def absorb(Q: np.ndarray, r: np.ndarray, exits: np.ndarray, d: np.ndarray):
    """Absorbing chain on the inner states: Q (inner -> inner), r (expected reward per step), exits
    (inner -> states outside), d (probability of ending the episode). Returns (value, exit distribution,
    end probability) per inner state; improper states: value -inf, zero exits."""
    n = Q.shape[0]
    leaves = exits.sum(axis=1) + d > 1e-15
    can_leave = _reach(Q > 0, leaves)
    improper = _reach(Q > 0, ~can_leave)
    ok = ~improper
    V = np.full(n, -np.inf)
    E = np.zeros_like(exits)
    D = np.zeros(n)
    if ok.any():
        from scipy.sparse import csc_matrix, identity
        from scipy.sparse.linalg import splu

        cols = np.flatnonzero(exits[ok].any(axis=0))  # only the states the chain can exit to
        A = (identity(int(ok.sum()), format="csc") - csc_matrix(Q[np.ix_(ok, ok)])).tocsc()
        sol = splu(A).solve(np.column_stack([r[ok], exits[np.ix_(ok, cols)], d[ok]]))
        V[ok], D[ok] = sol[:, 0], sol[:, -1]
        E[np.ix_(np.flatnonzero(ok), cols)] = sol[:, 1:-1]
    return V, E, D


@dataclass
class Model:
    """A child's model on the augmented states: where available, expected reward ``r``, successor
    distribution over non-final states ``B`` (X x X) and episode-end probability ``d``."""

    avail: np.ndarray
    r: np.ndarray
    B: np.ndarray
    d: np.ndarray


def _primitive(model: AugModel, a: int) -> Model:
    return Model(np.ones(model.n, bool), model.R[a], model.P[a], model.done[a])


def _solve_task(inner: np.ndarray, children: list[Model], choice: np.ndarray | None,
                tol: float = 1e-10, max_iter: int = 100_000) -> tuple[Model, np.ndarray]:
    """One subtask as an SMDP over its children's models: inner = states where it is active.
    ``choice``: child index per state (evaluate) or None (solve, ordered greedy). Returns the subtask's own
    model (available on ``inner``) and its choice per state (-1 outside)."""
    X = inner.shape[0]
    K = len(children)
    if choice is None:
        from scipy.sparse import csr_matrix

        Bs = [csr_matrix(m.B[:, inner]) for m in children]
        V = np.zeros(X)
        for _ in range(max_iter):
            Qk = np.full((K, X), -np.inf)
            for k, m in enumerate(children):
                q = m.r + Bs[k] @ V[inner]
                Qk[k, m.avail] = q[m.avail]
            V2 = np.where(inner, Qk.max(axis=0), 0.0)
            V2[~np.isfinite(V2)] = 0.0
            if np.max(np.abs(V2 - V)) < tol:
                V = V2
                break
            V = V2
        else:  # pragma: no cover
            raise RuntimeError("SMDP value iteration did not converge")
        best = Qk.max(axis=0)
        choice = np.where(inner, np.argmax(Qk >= best - TIE_TOL, axis=0), -1)
    choice = np.where(inner, choice, -1)
    idx = np.flatnonzero(inner)
    Bc = np.zeros((X, X))
    rc = np.zeros(X)
    dc = np.zeros(X)
    for k, m in enumerate(children):
        rows = idx[choice[idx] == k]
        if rows.size and not m.avail[rows].all():
            raise ValueError(f"child {k} chosen where it is not available (state {rows[~m.avail[rows]][0]})")
        Bc[rows], rc[rows], dc[rows] = m.B[rows], m.r[rows], m.d[rows]
    Vi, Ei, Di = absorb(Bc[np.ix_(idx, idx)], rc[idx], Bc[np.ix_(idx, np.flatnonzero(~inner))], dc[idx])
    B = np.zeros((X, X))
    B[np.ix_(idx, np.flatnonzero(~inner))] = Ei
    r = np.full(X, -np.inf)
    r[idx] = Vi
    d = np.zeros(X)
    d[idx] = Di
    return Model(inner.copy(), r, B, d), choice


@dataclass
class Hierarchy:
    """Models and choices of every subtask (``choices[name]``: child index per augmented state)."""

    nav: list[Model]
    get: Model
    put: Model
    root: Model
    choices: dict

    def mean_return(self, model: AugModel) -> float:
        v = self.root.r
        mask = model.start > 0
        return float(model.start[mask] @ v[mask])


def hierarchy_models(env: Taxi, model: AugModel | None = None, choose=None) -> Hierarchy:
    """Solve (``choose=None``: recursively optimal) or evaluate (``choose(node, t, s) -> child slot`` on
    500-state observations, slots as in :mod:`hrlmeta.algos.maxq_q`) the Taxi task graph exactly."""
    model = model or aug_model(env)
    obs = model.obs
    cell, passenger, dest = obs // 20, (obs // 4) % 5, obs % 4
    at_lm = env.cell_landmark[cell]

    def given(node, t, inner):
        if choose is None:
            return None
        return np.array([choose(node, t, int(s)) if ok else -1 for s, ok in zip(obs, inner)])

    choices = {}
    nav = []
    for t in range(4):
        inner = at_lm != t
        m, choices[f"navigate{t}"] = _solve_task(inner, [_primitive(model, a) for a in range(4)], given(3, t, inner))
        nav.append(m)

    def bound_nav(target):  # Navigate with its parameter bound per state (source or destination)
        X = model.n
        B = np.zeros((X, X))
        r = np.full(X, -np.inf)
        d = np.zeros(X)
        avail = np.zeros(X, bool)
        for t in range(4):
            rows = (target == t) & nav[t].avail
            B[rows], r[rows], d[rows], avail[rows] = nav[t].B[rows], nav[t].r[rows], nav[t].d[rows], True
        return Model(avail, r, B, d)

    in_taxi = passenger == IN_TAXI
    src = np.where(in_taxi, -1, passenger)
    get, choices["get"] = _solve_task(~in_taxi, [bound_nav(src), _primitive(model, 4)], given(1, 0, ~in_taxi))
    put, choices["put"] = _solve_task(in_taxi, [bound_nav(dest), _primitive(model, 5)], given(2, 0, in_taxi))
    everywhere = np.ones(model.n, bool)
    root, choices["root"] = _solve_task(everywhere, [get, put], given(0, 0, everywhere))
    return Hierarchy(nav, get, put, root, choices)


def evaluate_flat(model: AugModel, policy: np.ndarray | None = None) -> np.ndarray:
    """Exact value of a flat policy: ``policy[s]`` (action per 500-state observation) or None for the
    uniformly random policy. Values -inf where the policy is improper."""
    if policy is None:
        P, R, D = model.P.mean(axis=0), model.R.mean(axis=0), model.done.mean(axis=0)
    else:
        a = np.asarray(policy)[model.obs]
        x = np.arange(model.n)
        P, R, D = model.P[a, x], model.R[a, x], model.done[a, x]
    V, _, _ = absorb(P, R, np.zeros((model.n, 0)), D)
    return V


def mean_over_starts(model: AugModel, V: np.ndarray) -> float:
    mask = model.start > 0
    return float(model.start[mask] @ V[mask])


def taxi_oracle(env: Taxi) -> dict:
    """Optimal and recursively optimal mean return over the start distribution, plus the uniformly random
    policy's, for one variant."""
    model = aug_model(env)
    V, _ = optimal_values(model)
    h = hierarchy_models(env, model)
    return {"optimal": mean_over_starts(model, V), "recursive_optimal": h.mean_return(model),
            "random": mean_over_starts(model, evaluate_flat(model))}


def oracle(params: dict) -> dict:
    from ...envs.taxi import VARIANTS

    from .analysis import EXPERIMENT, _env, _env_key, _oracle

    out = {v: _oracle(_env_key(v, params)) for v in VARIANTS}
    return {"experiment": EXPERIMENT,
            "optimal_mean_return": {v: o["optimal"] for v, o in out.items()},
            "recursive_optimal_mean_return": {v: o["recursive_optimal"] for v, o in out.items()},
            "random_mean_return": {v: o["random"] for v, o in out.items()},
            "rewards": dict(params["rewards"]),
            "start_states": len(_env(_env_key("deterministic", params))[0].start_states)}
