"""The exact oracle of ``chain_hdqn``: the optimum of the stochastic decision process by value iteration on (state, visited-s6) (``hrlmeta oracle --experiment chain_hdqn``)."""

from __future__ import annotations

import numpy as np

from ...envs.chain import N_ACTIONS, N_STATES, TERMINAL, check_params, transition_matrix


def value_iteration(p_right: float = 0.5, reward_visited: float = 1.0, reward_unvisited: float = 0.01,
                    gamma: float = 1.0, n_states: int = N_STATES, tol: float = 1e-15,
                    max_iter: int = 1_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Optimal values of the augmented process (s, v), v = 1 once s6 was visited.

    Returns (V[s, v], Q[s, v, a]); the terminal s1 has value 0 and pays its reward on entry. With
    gamma = 1 (undiscounted) the iteration converges because every policy reaches s1 with probability 1.
    """
    check_params(p_right, reward_visited, reward_unvisited)
    P = transition_matrix(p_right, n_states)
    last = n_states - 1
    R = np.array([reward_unvisited, reward_visited])
    V = np.zeros((n_states, 2))
    Q = np.zeros((n_states, 2, N_ACTIONS))
    for _ in range(max_iter):
        for v in range(2):
            # successor's visited flag: v, or 1 if the successor is s6
            cont = np.where(np.arange(n_states) == last, V[:, 1], V[:, v])
            cont[TERMINAL] = R[v]  # entering s1 (s6 is never the terminal): reward, no continuation
            Q[:, v, :] = (P * np.where(np.arange(n_states) == TERMINAL, 1.0, gamma)[None, None, :]
                          * cont[None, None, :]).sum(-1)
        Q[TERMINAL] = 0.0
        V_new = Q.max(-1)
        if np.max(np.abs(V_new - V)) <= tol:
            V = V_new
            break
        V = V_new
    else:  # pragma: no cover
        raise RuntimeError("value iteration did not converge")
    return V, Q


def closed_form_return(p_right: float = 0.5, reward_visited: float = 1.0, reward_unvisited: float = 0.01,
                       n_states: int = N_STATES) -> float:
    """Expected undiscounted return from s2 of "right until s6 is reached, then left".

    Under *right* the position moves up with probability q = p_right and down otherwise, so reaching s6
    before s1 from s2 is the gambler's-ruin probability with 1 step of capital out of n - 1 = 5:
    P = (1 - rho) / (1 - rho^5), rho = (1 - q) / q (P = 1/5 at q = 1/2). From s6 *left* reaches s1
    deterministically, paying reward_visited; otherwise s1 comes first and pays reward_unvisited:
    return = P reward_visited + (1 - P) reward_unvisited  (= 0.2 + 0.8 x 0.01 = 0.208 for the paper).
    """
    q = float(p_right)
    m = n_states - 1
    if q == 0.0:
        P = 0.0
    elif q == 0.5:
        P = 1.0 / m
    else:
        rho = (1.0 - q) / q
        P = (1.0 - rho) / (1.0 - rho ** m)
    return P * reward_visited + (1.0 - P) * reward_unvisited


def oracle(params: dict) -> dict:
    """Exact optimum of the task (undiscounted expected extrinsic return from s2, the quantity the paper
    plots), by value iteration on (state, visited-s6), with the closed form, the discounted problem's
    optimal policy and the best two-level epsilon-greedy behaviour at the final epsilon for reference."""
    from ...envs import chain

    from .analysis import EXPERIMENT

    env = params["env"]
    kw = dict(p_right=env["p_right"], reward_visited=env["reward_visited"], reward_unvisited=env["reward_unvisited"])
    V, Q = value_iteration(**kw, gamma=1.0)
    Vg, Qg = value_iteration(**kw, gamma=float(params["gamma"]))
    # the optimal two-level policy: goal s6 until s6 is reached (then s1), controller right (left for s1)
    S = chain.N_STATES
    mu = np.zeros((S, S))
    mu[:, 0] = 1.0
    mu[:S - 1, :] = 0.0
    mu[:S - 1, S - 1] = 1.0
    pi = np.zeros((S, S, 2))
    pi[:, :, chain.RIGHT] = 1.0
    pi[:, 0, :] = (1.0, 0.0)
    eps = float(params["epsilon"]["end"])
    return {
        "experiment": EXPERIMENT,
        "optimal_expected_return": float(V[chain.START, 0]),
        "closed_form_right_until_s6_then_left": closed_form_return(**kw),
        "undiscounted": True,
        "discounted_optimal_value": {"gamma": float(params["gamma"]), "value": float(Vg[chain.START, 0])},
        "optimal_two_level_return": chain.hier_policy_return(mu, pi, **kw),
        "optimal_two_level_return_at_final_epsilon": {
            "epsilon": eps,
            "value": chain.hier_policy_return(chain.epsilon_greedy_probs(mu, eps),
                                              chain.epsilon_greedy_probs(pi, eps), **kw)},
    }
