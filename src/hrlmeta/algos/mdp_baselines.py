"""Baselines for random tabular MDPs, as compared against RL^2 in Duan et al. (2016), Table 2.

All policies are vectorised over a batch of independent tasks and recompute their plan at the start of
every episode (then follow it for the episode's ``horizon`` steps), as the TabulaRL agents the paper's
baselines ran on do. The Bayesian ones share one conjugate posterior per (task, s, a):

- mean reward: Normal prior N(mu0, 1/tau0), known reward-noise precision tau (= 1, the true noise), so
  after N observations with sum Sr the posterior is N((mu0 tau0 + tau Sr) / tau1, 1/tau1), tau1 = tau0 + N tau;
- transitions: Dirichlet(alpha0 + counts), alpha0 = 1 (the true, flat, prior).

CHOICE: the reward prior defaults to mu0 = 0, tau0 = 1 -- TabulaRL's defaults, which the paper's
baseline evaluation used -- although the task distribution has mu ~ N(1, 1); ``prior_reward_mean`` can
be set to 1 to give the baselines the true prior.

Policies (ids of the experiment ``tabular_mdp_duan``)
-----------------------------------------------------
``random``   uniform action every step.
``optimal``  knows the true MDP; finite-horizon optimal policy by backward induction (an upper bound).
``greedy``   certainty equivalence: optimal policy of the posterior-mean MDP.
``psrl``     posterior sampling (Strens 2000; Osband et al. 2013): one MDP sampled from the posterior per
             episode, act optimally for it.
``opsrl``    optimistic PSRL (as in TabulaRL, the paper's baseline code): m posterior samples per episode,
             Q values = elementwise maximum of the m samples' optimal Q values; m tuned per n over a grid
             (the authors' grid is {1, ..., 20}).
``beb``      Bayesian exploration bonus (Kolter & Ng, 2009): optimal policy of the posterior-mean MDP
             with reward bonus beta / (1 + N(s, a)); beta tuned per n over a log grid (the authors'
             grid for the bonus scale is 21 points log-spaced in [1e-4, 1], times 2 H^2 as TabulaRL
             scales it; we tune beta directly over a log grid). CHOICE: the clean Kolter-Ng bonus, not
             TabulaRL's variant that also adds a horizon-scaled transition bonus.

Tuning (CHOICE): on separate tuning tasks, never on the evaluation tasks.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..envs.tabular_mdp import TabularMDPs, finite_horizon_q, sample_mdps

POLICIES = ("random", "optimal", "greedy", "psrl", "opsrl", "beb")
TUNED = {"opsrl": ("n_samples", [1, 2, 3, 5, 8, 12, 20]), "beb": ("beta", [0.01, 0.1, 0.3, 1.0, 3.0, 10.0])}


class MDPPolicy:
    """Base: per-task conjugate posterior; ``plan()`` is called at each episode start and sets
    ``self.Q`` shaped (horizon, tasks, S, A); ``act(states, h)`` is greedy on it (random tie-break)."""

    def __init__(self, n_tasks, n_states, n_actions, horizon, rng, prior_reward_mean=0.0,
                 prior_reward_precision=1.0, reward_precision=1.0, dirichlet_alpha=1.0):
        self.n_tasks, self.nS, self.nA, self.H, self.rng = n_tasks, n_states, n_actions, horizon, rng
        self.mu0, self.tau0, self.tau = float(prior_reward_mean), float(prior_reward_precision), float(reward_precision)
        self.alpha0 = float(dirichlet_alpha)
        self.N = np.zeros((n_tasks, n_states, n_actions))
        self.Rsum = np.zeros((n_tasks, n_states, n_actions))
        self.C = np.zeros((n_tasks, n_states, n_actions, n_states))
        self._rows = np.arange(n_tasks)
        self.Q = None

    # --- posterior ------------------------------------------------------------------------------
    def reward_posterior(self):
        """Posterior mean and precision of every mean reward, each shaped (tasks, S, A)."""
        tau1 = self.tau0 + self.tau * self.N
        return (self.mu0 * self.tau0 + self.tau * self.Rsum) / tau1, tau1

    def transition_posterior_mean(self):
        a = self.alpha0 + self.C
        return a / a.sum(axis=-1, keepdims=True)

    def sample_mdp(self):
        mu, tau1 = self.reward_posterior()
        R = mu + self.rng.standard_normal(mu.shape) / np.sqrt(tau1)
        g = self.rng.standard_gamma(self.alpha0 + self.C)
        P = g / g.sum(axis=-1, keepdims=True)
        return R, P

    def update(self, s, a, r, s_next):
        self.N[self._rows, s, a] += 1.0
        self.Rsum[self._rows, s, a] += r
        self.C[self._rows, s, a, s_next] += 1.0

    # --- acting ---------------------------------------------------------------------------------
    def plan(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def act(self, s, h):
        q = self.Q[h, self._rows, s]  # (tasks, A)
        top = q >= q.max(axis=1, keepdims=True) - 1e-12
        return np.argmax(np.where(top, self.rng.random(q.shape), -1.0), axis=1)


class RandomPolicy(MDPPolicy):
    def plan(self):
        pass

    def act(self, s, h):
        return self.rng.integers(0, self.nA, size=self.n_tasks)


class OptimalPolicy(MDPPolicy):
    """Needs the true MDPs: ``set_true(R, P)`` before the first episode."""

    def set_true(self, R, P):
        self.Q = finite_horizon_q(R, P, self.H)

    def plan(self):
        if self.Q is None:
            raise RuntimeError("optimal: call set_true(R, P) with the true MDPs first")


class GreedyPolicy(MDPPolicy):
    def plan(self):
        mu, _ = self.reward_posterior()
        self.Q = finite_horizon_q(mu, self.transition_posterior_mean(), self.H)


class PSRLPolicy(MDPPolicy):
    def plan(self):
        self.Q = finite_horizon_q(*self.sample_mdp(), self.H)


class OPSRLPolicy(MDPPolicy):
    def __init__(self, *args, n_samples: int = 5, **kw):
        super().__init__(*args, **kw)
        if int(n_samples) < 1:
            raise ValueError(f"opsrl: n_samples must be >= 1, got {n_samples}")
        self.m = int(n_samples)

    def plan(self):
        Q = finite_horizon_q(*self.sample_mdp(), self.H)
        for _ in range(self.m - 1):
            Q = np.maximum(Q, finite_horizon_q(*self.sample_mdp(), self.H))
        self.Q = Q


class BEBPolicy(MDPPolicy):
    def __init__(self, *args, beta: float = 1.0, **kw):
        super().__init__(*args, **kw)
        if beta < 0:
            raise ValueError(f"beb: beta must be >= 0, got {beta}")
        self.beta = float(beta)

    def plan(self):
        mu, _ = self.reward_posterior()
        bonus = self.beta / (1.0 + self.N)
        self.Q = finite_horizon_q(mu + bonus, self.transition_posterior_mean(), self.H)


FACTORIES: dict[str, Callable[..., MDPPolicy]] = {
    "random": RandomPolicy,
    "optimal": OptimalPolicy,
    "greedy": GreedyPolicy,
    "psrl": PSRLPolicy,
    "opsrl": OPSRLPolicy,
    "beb": BEBPolicy,
}


def run_policy(policy: MDPPolicy, env: TabularMDPs, n_episodes: int) -> dict:
    """Play ``n_episodes`` episodes in every task; per-task totals and the per-episode mean return."""
    totals = np.zeros(env.n_tasks)
    per_episode = np.zeros(n_episodes)
    for e in range(n_episodes):
        policy.plan()
        s = env.reset()
        ep = np.zeros(env.n_tasks)
        for h in range(env.horizon):
            a = policy.act(s, h)
            s_next, r, _ = env.step(a)
            policy.update(s, a, r, s_next)
            ep += r
            s = s_next
        totals += ep
        per_episode[e] = ep.mean()
    return {"totals": totals, "return_per_episode": per_episode}


def evaluate(name: str, n_episodes: int, R, P, horizon: int, rng: np.random.Generator,
             prior: dict | None = None, **hparams) -> dict:
    """Run policy ``name`` on the MDPs (R, P) for ``n_episodes`` episodes of ``horizon`` steps."""
    if name not in FACTORIES:
        raise KeyError(f"unknown MDP policy {name!r}; known: {', '.join(FACTORIES)}")
    env = TabularMDPs(R, P, horizon, rng)
    pol = FACTORIES[name](env.n_tasks, env.n_states, env.n_actions, horizon, rng, **(prior or {}), **hparams)
    if name == "optimal":
        pol.set_true(env.R, env.P)
    return run_policy(pol, env, n_episodes)


def optimal_expected_return(R, P, horizon: int, initial_state: int = 0) -> np.ndarray:
    """Exact expected return of one episode under the optimal policy, per task."""
    Q = finite_horizon_q(np.asarray(R, float), np.asarray(P, float), horizon)
    return Q[0][:, initial_state].max(axis=-1)


def tune(name, n_episodes, horizon, grid, n_tasks, rng, mdp_kw=None, prior=None):
    """Best grid value of ``name``'s hyperparameter by mean total reward on fresh tuning tasks."""
    key, _ = TUNED[name]
    R, P = sample_mdps(rng, n_tasks, **(mdp_kw or {}))
    seed = int(rng.integers(2**31))
    scores = {}
    for v in grid:
        res = evaluate(name, n_episodes, R, P, horizon, np.random.default_rng(seed), prior=prior, **{key: v})
        scores[v] = float(res["totals"].mean())
    return max(grid, key=lambda v: scores[v]), scores
