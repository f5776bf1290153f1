"""Tabular option-critic (Bacon, Harb & Precup 2017, "The Option-Critic Architecture", AAAI, Algorithm 1),
as in the paper's Four Rooms experiment: ``option_critic_4`` / ``option_critic_8`` learn 4 / 8 options.

Parameterisation (paper, "Experiments"): intra-option policies are Boltzmann distributions over a table
of preferences ``theta[w, s, a]`` with temperature ``T`` (paper: 0.001); terminations are sigmoids of a
table ``vartheta[w, s]``; every weight starts at zero. The policy over options is epsilon-greedy in the
option values ``Q_Omega`` (paper, Algorithm 1: "an epsilon-soft policy over options"), learned by
intra-option Q-learning.

Algorithm 1, one whole training run in one compiled call::

    s ~ start distribution;  w = epsilon-greedy(Q_Omega(s, .))
    repeat:
        a ~ pi_w(. | s) = softmax(theta[w, s, .] / T)
        take a, observe s', r
        # 1. options evaluation (intra-option Q-learning; also Q_U, the value of (s, w, a))
        delta = r - Q_U(s, w, a)
        if s' is not terminal:
            delta += gamma (1 - beta_w(s')) Q_Omega(s', w) + gamma beta_w(s') max_w' Q_Omega(s', w')
        Q_U(s, w, a) += alpha_critic delta             (and Q_Omega(s, w) towards the same target)
        # 2. options improvement
        theta[w, s]  += alpha_theta (e_a - pi_w(. | s)) (Q_U(s, w, a) - b(s, w))
        vartheta[w, s'] -= alpha_beta beta_w(s') (1 - beta_w(s')) (Q_Omega(s', w) - V_Omega(s') + xi)
        if beta_w terminates in s': w = epsilon-greedy(Q_Omega(s', .))
        s = s'
    until s' is terminal

Choices (the paper is silent on them; see config/config.yaml):

* Learning rates: the authors' published command for this figure (``--lr_critic=0.5 --lr_intra=0.25
  --lr_term=0.25 --epsilon=0.01 --baseline --nsteps=1000``).
* ``b(s, w)``: the intra-option policy-gradient baseline ``Q_Omega(s, w)`` when ``intra_baseline`` is set
  (the authors' command sets ``--baseline``; the paper adds the same baseline in its ALE experiments),
  else 0.
* ``V_Omega(s') = max_w' Q_Omega(s', w')``: the greedy value, which intra-option Q-learning estimates
  (and the authors' code uses); with it the advantage is never positive. ``xi`` (default 0) is the
  paper's termination regulariser from its ALE experiments, not used in Four Rooms.
* The preference step is ``alpha (e_a - pi)``, i.e. the exact gradient ``d log pi / d theta =
  (e_a - pi) / T`` times ``T``: the authors' code takes this step, and with T = 0.001 the exact gradient
  would make one update 1000 times larger. Equivalently, the step size on the exact gradient is
  ``alpha_theta * T``.
* The termination gradient is applied only when s' is not terminal (a terminal state has no option
  values); the termination draw uses the updated ``beta_w(s')``; Q_Omega's target is the one above.
* ``max_steps``: the per-episode step cap (the authors' ``nsteps = 1000``); an episode cut there is
  reported with ``reached = False``.
* The goal may change between episodes (``goals[e]`` is episode e's goal); the start state is uniform
  over all other cells. Randomness: numba's generator seeded with ``seed``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .tabular import boltzmann_probs, greedy, random_start, sample_probs


@njit(cache=True)
def _choose_option(Q, s, epsilon):
    if np.random.random() < epsilon:
        return int(np.random.random() * Q.shape[1])
    return greedy(Q[s])


@njit(cache=True)
def _max_row(Q, s):
    m = Q[s, 0]
    for i in range(1, Q.shape[1]):
        if Q[s, i] > m:
            m = Q[s, i]
    return m


@njit(cache=True)
def run(next_k, goals, n_options, alpha_critic, alpha_theta, alpha_beta, gamma, epsilon, temperature, xi,
        intra_baseline, max_steps, seed):
    """One training run over ``len(goals)`` episodes. Returns (steps, decisions, reached, Q_Omega (S, O),
    Q_U (S, O, A), theta (O, S, A), vartheta (O, S))."""
    np.random.seed(seed)
    n_states, n_actions, k_slots = next_k.shape
    n_episodes = goals.shape[0]
    Q = np.zeros((n_states, n_options))
    QU = np.zeros((n_states, n_options, n_actions))
    theta = np.zeros((n_options, n_states, n_actions))
    vth = np.zeros((n_options, n_states))
    pi = np.empty(n_actions)
    steps = np.zeros(n_episodes, dtype=np.int64)
    decisions = np.zeros(n_episodes, dtype=np.int64)
    reached = np.zeros(n_episodes, dtype=np.bool_)
    for ep in range(n_episodes):
        goal = goals[ep]
        s = random_start(n_states, goal)
        w = _choose_option(Q, s, epsilon)
        d = 1
        t = 0
        while True:
            boltzmann_probs(theta[w, s], temperature, pi)
            a = sample_probs(pi)
            s2 = next_k[s, a, int(np.random.random() * k_slots)]
            t += 1
            done = s2 == goal
            if done:
                target = 1.0
                b = 0.0
                qmax = 0.0
            else:
                b = 1.0 / (1.0 + np.exp(-vth[w, s2]))
                qmax = _max_row(Q, s2)
                target = gamma * ((1.0 - b) * Q[s2, w] + b * qmax)
            # 1. options evaluation
            QU[s, w, a] += alpha_critic * (target - QU[s, w, a])
            Q[s, w] += alpha_critic * (target - Q[s, w])
            # 2. options improvement: intra-option policy gradient ...
            g = QU[s, w, a]
            if intra_baseline:
                g -= Q[s, w]
            step = alpha_theta * g
            for i in range(n_actions):
                theta[w, s, i] -= step * pi[i]
            theta[w, s, a] += step
            if done:
                reached[ep] = True
                break
            # ... and termination gradient (advantage after the critic update)
            if s2 == s:  # the critic update changed Q(s', .)
                qmax = _max_row(Q, s2)
            adv = Q[s2, w] - qmax + xi
            vth[w, s2] -= alpha_beta * b * (1.0 - b) * adv
            if t >= max_steps:
                break
            if np.random.random() < 1.0 / (1.0 + np.exp(-vth[w, s2])):
                w = _choose_option(Q, s2, epsilon)
                d += 1
            s = s2
        steps[ep] = t
        decisions[ep] = d
    return steps, decisions, reached, Q, QU, theta, vth


def check_rates(**rates) -> None:
    """ValueError naming the first learning rate / probability outside its range."""
    for k, v in rates.items():
        lo_open = k not in ("epsilon", "xi")
        if k == "xi":
            if not np.isfinite(v):
                raise ValueError(f"{k}={v!r} must be finite")
            continue
        if not (0 < v <= 1 if lo_open else 0 <= v <= 1):
            raise ValueError(f"{k}={v!r} outside {'(0, 1]' if lo_open else '[0, 1]'}")


def train(next_k, goals, n_options, alpha_critic=0.5, alpha_theta=0.25, alpha_beta=0.25, gamma=0.99,
          epsilon=0.01, temperature=1e-3, xi=0.0, intra_baseline=True, max_steps=1000, seed=0):
    """Python entry point. ``goals``: goal state of every episode. Returns a dict with per-episode
    ``steps``, ``decisions`` (options chosen), ``reached``, the tables and ``beta`` = sigmoid(vartheta),
    the termination probabilities (O, S)."""
    next_k = np.ascontiguousarray(next_k, dtype=np.int32)
    goals = np.ascontiguousarray(goals, dtype=np.int64)
    n_states = next_k.shape[0]
    if goals.size and (goals.min() < 0 or goals.max() >= n_states):
        raise ValueError(f"goals outside 0..{n_states - 1}")
    if int(n_options) < 1:
        raise ValueError(f"n_options={n_options!r} must be >= 1")
    if not temperature > 0:
        raise ValueError(f"temperature={temperature!r} must be > 0")
    check_rates(alpha_critic=alpha_critic, alpha_theta=alpha_theta, alpha_beta=alpha_beta, gamma=gamma,
                epsilon=epsilon, xi=xi)
    steps, decisions, reached, Q, QU, theta, vth = run(
        next_k, goals, int(n_options), float(alpha_critic), float(alpha_theta), float(alpha_beta),
        float(gamma), float(epsilon), float(temperature), float(xi), bool(intra_baseline), int(max_steps),
        int(seed) % (2**32))
    return {"steps": steps, "decisions": decisions, "reached": reached, "Q": Q, "QU": QU, "theta": theta,
            "vartheta": vth, "beta": 1.0 / (1.0 + np.exp(-vth))}


# ----------------------------------------------------------------------------------------------
# exact values and the two gradient theorems (numpy; for tests and small MDPs)
# ----------------------------------------------------------------------------------------------


def _softmax(x, axis=-1):
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def exact_values(P, R, gamma, theta, vartheta, pi_omega, temperature=1.0):
    """Exact option values of a tabular MDP for given option parameters, by solving the option-level
    Bellman equations (paper, Eqs. (1)-(3)) as one linear system over (s, w) pairs.

    ``P[a, s, s']``, ``R[s, a]`` (expected reward; terminal states are absorbing with zero reward, or
    simply have no outgoing mass); ``theta[w, s, a]``, ``vartheta[w, s]``; ``pi_omega[s, w]`` the policy
    over options (fixed). Returns a dict with ``Q_Omega`` (S, O), ``Q_U`` (S, O, A), ``U`` (O, S'),
    ``V_Omega`` (S), ``pi`` (O, S, A), ``beta`` (O, S), the augmented chains."""
    n_a, n_s, _ = P.shape
    n_o = theta.shape[0]
    pi = _softmax(theta / temperature, axis=2)  # (O, S, A)
    beta = 1.0 / (1.0 + np.exp(-vartheta))  # (O, S)
    # (s, w) -> (s', w') chain: act with pi_w, arrive in s', continue w or re-choose from pi_omega
    Ps = np.einsum("wsa,ast->wst", pi, P)  # (O, S, S') state kernel under option w
    cont = np.einsum("wt,vw->wtv", 1 - beta, np.eye(n_o)) + np.einsum("wt,tv->wtv", beta, pi_omega)
    M = np.einsum("wst,wtv->swtv", Ps, cont).reshape(n_s * n_o, n_s * n_o)
    r = np.einsum("wsa,sa->sw", pi, R).reshape(-1)
    Qo = np.linalg.solve(np.eye(n_s * n_o) - gamma * M, r).reshape(n_s, n_o)
    V = (pi_omega * Qo).sum(axis=1)
    U = (1 - beta) * Qo.T + beta * V[None, :]  # (O, S')
    QU = R[:, None, :] + gamma * np.einsum("ast,wt->swa", P, U)
    return {"Q_Omega": Qo, "Q_U": QU, "U": U, "V_Omega": V, "pi": pi, "beta": beta, "M": M,
            "cont": cont, "Ps": Ps}


def intra_option_gradient(P, R, gamma, theta, vartheta, pi_omega, s0, w0, temperature=1.0):
    """Intra-option policy gradient theorem (paper, Theorem 1): d Q_Omega(s0, w0) / d theta[w, s, a]
    = sum_{s, w} mu_Omega(s, w | s0, w0) sum_a' d pi_w(a' | s) / d theta[w, s, a] Q_U(s, w, a'), with
    mu_Omega the discounted occupancy of (s, w) pairs from (s0, w0)."""
    ex = exact_values(P, R, gamma, theta, vartheta, pi_omega, temperature)
    n_s, n_o = ex["Q_Omega"].shape
    start = np.zeros(n_s * n_o)
    start[s0 * n_o + w0] = 1.0
    mu = np.linalg.solve((np.eye(n_s * n_o) - gamma * ex["M"]).T, start).reshape(n_s, n_o)
    pi, QU = ex["pi"], ex["Q_U"]
    # d pi(a'|s) / d theta[a] = pi(a') (1[a = a'] - pi(a)) / T  =>  sum_a' ... Q_U = pi(a) (Q_U(a) - Q_Omega) / T
    adv = QU - ex["Q_Omega"][:, :, None]  # (S, O, A)
    grad = np.einsum("sw,wsa,swa->wsa", mu, pi, adv) / temperature
    return grad, ex


def termination_gradient(P, R, gamma, theta, vartheta, pi_omega, s1, w0, temperature=1.0):
    """Termination gradient theorem (paper, Theorem 2): d U(w0, s1) / d vartheta[w, s']
    = - sum mu_Omega(s', w | s1, w0) d beta_w(s') / d vartheta A_Omega(s', w), with A_Omega = Q_Omega - V_Omega
    and mu_Omega the discounted occupancy of (option, arrival state) pairs from (w0, s1)."""
    ex = exact_values(P, R, gamma, theta, vartheta, pi_omega, temperature)
    n_s, n_o = ex["Q_Omega"].shape
    # (w, s') -> (w', s''): continue or re-choose in s', then w' acts in s' and arrives in s''
    N = np.einsum("wtv,vtu->wtvu", ex["cont"], ex["Ps"]).reshape(n_o * n_s, n_o * n_s)
    start = np.zeros(n_o * n_s)
    start[w0 * n_s + s1] = 1.0
    mu = np.linalg.solve((np.eye(n_o * n_s) - gamma * N).T, start).reshape(n_o, n_s)
    beta = ex["beta"]
    A = ex["Q_Omega"].T - ex["V_Omega"][None, :]  # (O, S)
    grad = -mu * beta * (1 - beta) * A
    return grad, ex
