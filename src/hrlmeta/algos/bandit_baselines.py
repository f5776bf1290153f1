"""Classic baselines for Bernoulli bandits, as compared against RL^2 in Duan et al. (2016), Table 1.

Every policy is vectorised over a batch of independent tasks: it keeps per-task success/failure counts
``S``, ``F`` (tasks, k) and returns one arm per task at each pull. All Bayesian quantities use the
Beta(1, 1) prior that matches the task distribution (arm means ~ U[0, 1]), so the posterior of an arm
with s successes and f failures is Beta(s + 1, f + 1) and its posterior mean (s + 1) / (s + f + 2).
Ties are broken uniformly at random (``rand_argmax``).

Policies (ids as used by the experiment ``bandits_duan``)
---------------------------------------------------------
``random``      uniform arm at every pull.
``greedy``      arm with the highest posterior mean (s+1)/(s+f+2) -- the authors' evaluation code
                initialises the empirical counts with one success in two pulls, which is the same thing.
``eps_greedy``  with probability eps a uniform arm, else greedy; eps tuned per (n, k) cell over
                {0, 0.1, ..., 1.0} (the grid of the authors' evaluation code).
``ucb1``        UCB1 (Auer et al., 2002) on the same smoothed counts: posterior mean
                + c * sqrt(2 ln t / (s + f + 2)), t = pulls so far (ln 1 = 0 at the first pull); the
                bonus scale c tuned per cell over {0, 0.1, ..., 1.0} (authors' grid). c = 1 is textbook UCB1.
``thompson``    Thompson sampling: one draw from every arm's Beta posterior, pull the argmax.
``ots``         "optimistic Thompson sampling" as the paper's evaluation code defines it: draw m joint
                samples of the arm means from the posterior, keep the one with the highest posterior
                density, pull its argmax; m tuned per cell over {1, ..., 20} (authors' grid). m = 1 is
                Thompson sampling; large m approaches acting on the posterior mode (greedier).
``gittins``     Bayes-optimal *finite-horizon* policy where it is computable: exact dynamic programming over
                the Beta posteriors (``BayesOptimalDP``; states are multisets of per-arm (s, f) counts, so
                arms are exchangeable and unpulled arms are one class). Exact for small n (default n <= 12,
                any k). Beyond that it falls back to the Gittins-index approximation the paper's code used
                (``whittle_index``: Whittle's closed-form approximation of the Bernoulli Gittins index,
                nu = mu + mu(1-mu) / (N sqrt((2c + 1/N) mu(1-mu)) + mu - 1/2), N = s+f+2, c = ln(1/gamma),
                with gamma = 1 as in that code).
``gittins_approx`` the paper's approximate Gittins index at every n (what Table 1's "Gittins" column ran).

Tuning (CHOICE): the authors picked each tuned hyperparameter by the mean over the same 1000 tasks they
report; we tune on a separate set of tuning tasks (own random stream) and report on fresh evaluation tasks,
so the reported score is not optimistically biased by the selection.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np

from ..envs.bandits import BernoulliBandits, sample_means

POLICIES = ("random", "greedy", "eps_greedy", "ucb1", "thompson", "ots", "gittins", "gittins_approx")
#: hyperparameter name and default tuning grid of each tuned policy (the authors' evaluation code)
TUNED = {
    "eps_greedy": ("epsilon", [round(0.1 * i, 1) for i in range(11)]),
    "ucb1": ("c", [round(0.1 * i, 1) for i in range(11)]),
    "ots": ("n_samples", list(range(1, 21))),
}


def rand_argmax(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax of a (tasks, k) array with ties broken uniformly at random."""
    v = np.asarray(values, dtype=float)
    top = v >= v.max(axis=1, keepdims=True)
    return np.argmax(np.where(top, rng.random(v.shape), -1.0), axis=1)


# ----------------------------------------------------------------------------------------------------
# vectorised policies
# ----------------------------------------------------------------------------------------------------
class BanditPolicy:
    """Base: per-task Beta posterior counts. Subclasses implement ``act``."""

    def __init__(self, n_tasks: int, k: int, horizon: int, rng: np.random.Generator):
        self.n_tasks, self.k, self.horizon, self.rng = n_tasks, k, horizon, rng
        self.S = np.zeros((n_tasks, k))
        self.F = np.zeros((n_tasks, k))
        self.t = 0
        self._rows = np.arange(n_tasks)

    def posterior_mean(self) -> np.ndarray:
        return (self.S + 1.0) / (self.S + self.F + 2.0)

    def act(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        self.S[self._rows, actions] += rewards
        self.F[self._rows, actions] += 1.0 - rewards
        self.t += 1


class RandomPolicy(BanditPolicy):
    def act(self):
        return self.rng.integers(0, self.k, size=self.n_tasks)


class GreedyPolicy(BanditPolicy):
    def act(self):
        return rand_argmax(self.posterior_mean(), self.rng)


class EpsGreedyPolicy(BanditPolicy):
    def __init__(self, n_tasks, k, horizon, rng, epsilon: float = 0.1):
        super().__init__(n_tasks, k, horizon, rng)
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"eps_greedy: epsilon must be in [0, 1], got {epsilon}")
        self.epsilon = float(epsilon)

    def act(self):
        greedy = rand_argmax(self.posterior_mean(), self.rng)
        explore = self.rng.random(self.n_tasks) < self.epsilon
        uniform = self.rng.integers(0, self.k, size=self.n_tasks)
        return np.where(explore, uniform, greedy)


class UCB1Policy(BanditPolicy):
    def __init__(self, n_tasks, k, horizon, rng, c: float = 1.0):
        super().__init__(n_tasks, k, horizon, rng)
        if c < 0:
            raise ValueError(f"ucb1: c must be >= 0, got {c}")
        self.c = float(c)

    def index(self) -> np.ndarray:
        pulls = self.S + self.F + 2.0
        return self.posterior_mean() + self.c * np.sqrt(2.0 * np.log(max(self.t, 1)) / pulls)

    def act(self):
        return rand_argmax(self.index(), self.rng)


class ThompsonPolicy(BanditPolicy):
    def act(self):
        return rand_argmax(self.rng.beta(self.S + 1.0, self.F + 1.0), self.rng)


class OTSPolicy(BanditPolicy):
    def __init__(self, n_tasks, k, horizon, rng, n_samples: int = 1):
        super().__init__(n_tasks, k, horizon, rng)
        if int(n_samples) < 1:
            raise ValueError(f"ots: n_samples must be >= 1, got {n_samples}")
        self.m = int(n_samples)

    def act(self):
        a, b = self.S + 1.0, self.F + 1.0
        x = self.rng.beta(a, b, size=(self.m, self.n_tasks, self.k))
        x = np.clip(x, 1e-12, 1 - 1e-12)
        # joint posterior log density up to the (sample-independent) Beta normalisers
        logp = ((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x)).sum(axis=2)  # (m, tasks)
        pick = np.argmax(logp, axis=0)
        return rand_argmax(x[pick, self._rows], self.rng)


def whittle_index(S: np.ndarray, F: np.ndarray, discount: float = 1.0) -> np.ndarray:
    """Whittle's approximation of the Bernoulli Gittins index under a Beta(S+1, F+1) posterior."""
    a, b = S + 1.0, F + 1.0
    N = a + b
    mu = a / N
    c = np.log(1.0 / discount)
    var = mu * (1.0 - mu)
    return mu + var / (N * np.sqrt((2.0 * c + 1.0 / N) * var) + mu - 0.5)


class GittinsApproxPolicy(BanditPolicy):
    def __init__(self, n_tasks, k, horizon, rng, discount: float = 1.0):
        super().__init__(n_tasks, k, horizon, rng)
        if not 0.0 < discount <= 1.0:
            raise ValueError(f"gittins: discount must be in (0, 1], got {discount}")
        self.discount = float(discount)

    def act(self):
        return rand_argmax(whittle_index(self.S, self.F, self.discount), self.rng)


class BayesOptimalDP:
    """Exact Bayes-optimal finite-horizon policy for a k-armed Bernoulli bandit with Beta(1,1) priors.

    A belief state is the multiset of (successes, failures) of the arms pulled so far (a sorted tuple);
    unpulled arms are exchangeable and implicit. ``value(state)`` is the Bayes-optimal expected reward of
    the remaining ``n - pulls`` pulls: V = max over arm classes of p (1 + V(success)) + (1-p) V(failure)
    with p = (s + 1) / (s + f + 2).
    """

    def __init__(self, n: int, k: int):
        if n < 1 or k < 2:
            raise ValueError(f"BayesOptimalDP needs n >= 1 and k >= 2, got n={n}, k={k}")
        self.n, self.k = int(n), int(k)
        self._value = lru_cache(maxsize=None)(self._value_uncached)

    @staticmethod
    def _replace(state: tuple, old, new) -> tuple:
        lst = list(state)
        if old is not None:
            lst.remove(old)
        lst.append(new)
        return tuple(sorted(lst))

    def q(self, state: tuple, arm) -> float:
        """Value of pulling an arm of class ``arm`` ((s, f), or None for a fresh arm) in ``state``."""
        s, f = (0, 0) if arm is None else arm
        p = (s + 1.0) / (s + f + 2.0)
        win = self._replace(state, arm, (s + 1, f))
        lose = self._replace(state, arm, (s, f + 1))
        return p * (1.0 + self._value(win)) + (1.0 - p) * self._value(lose)

    def arms(self, state: tuple) -> list:
        out = sorted(set(state))
        if len(state) < self.k:
            out.append(None)
        return out

    def _value_uncached(self, state: tuple) -> float:
        used = sum(s + f for s, f in state)
        if used >= self.n:
            return 0.0
        return max(self.q(state, arm) for arm in self.arms(state))

    def value(self, state: tuple = ()) -> float:
        """Bayes-optimal expected total reward from ``state`` (default: the prior, i.e. a whole task)."""
        return self._value(tuple(sorted(state)))

    def n_states(self) -> int:
        return self._value.cache_info().currsize


@lru_cache(maxsize=8)
def _dp(n: int, k: int) -> BayesOptimalDP:
    return BayesOptimalDP(n, k)


class GittinsPolicy(BanditPolicy):
    """Bayes-optimal DP where ``horizon <= exact_max_n``, else the paper's approximate Gittins index."""

    def __init__(self, n_tasks, k, horizon, rng, exact_max_n: int = 12, discount: float = 1.0):
        super().__init__(n_tasks, k, horizon, rng)
        self.exact = horizon <= exact_max_n
        self.dp = _dp(horizon, k) if self.exact else None
        self.discount = float(discount)

    def act(self):
        if not self.exact:
            return rand_argmax(whittle_index(self.S, self.F, self.discount), self.rng)
        out = np.empty(self.n_tasks, dtype=np.int64)
        S, F = self.S.astype(np.int64), self.F.astype(np.int64)
        for i in range(self.n_tasks):
            pulled = (S[i] + F[i]) > 0
            state = tuple(sorted(zip(S[i, pulled].tolist(), F[i, pulled].tolist())))
            qs = {arm: self.dp.q(state, arm) for arm in self.dp.arms(state)}
            best = max(qs.values())
            cand = []
            for j in range(self.k):
                arm = (int(S[i, j]), int(F[i, j])) if pulled[j] else None
                if qs[arm] >= best - 1e-12:
                    cand.append(j)
            out[i] = cand[self.rng.integers(len(cand))]
        return out


FACTORIES: dict[str, Callable[..., BanditPolicy]] = {
    "random": RandomPolicy,
    "greedy": GreedyPolicy,
    "eps_greedy": EpsGreedyPolicy,
    "ucb1": UCB1Policy,
    "thompson": ThompsonPolicy,
    "ots": OTSPolicy,
    "gittins": GittinsPolicy,
    "gittins_approx": GittinsApproxPolicy,
}


def make_policy(name: str, n_tasks: int, k: int, horizon: int, rng, **hparams) -> BanditPolicy:
    if name not in FACTORIES:
        raise KeyError(f"unknown bandit policy {name!r}; known: {', '.join(FACTORIES)}")
    return FACTORIES[name](n_tasks, k, horizon, rng, **hparams)


# ----------------------------------------------------------------------------------------------------
# evaluation and tuning
# ----------------------------------------------------------------------------------------------------
def run_policy(policy: BanditPolicy, env: BernoulliBandits, n: int) -> dict:
    """Play ``n`` pulls in every task. Returns per-task totals and per-pull mean curves."""
    totals = np.zeros(env.n_tasks)
    reward_curve = np.zeros(n)
    regret_curve = np.zeros(n)
    for t in range(n):
        a = policy.act()
        r = env.pull(a)
        policy.update(a, r)
        totals += r
        reward_curve[t] = r.mean()
        regret_curve[t] = env.pseudo_regret(a).mean()
    return {"totals": totals, "reward_per_pull": reward_curve, "regret_per_pull": regret_curve}


def evaluate(name: str, n: int, k: int, means: np.ndarray, rng: np.random.Generator, **hparams) -> dict:
    """Run policy ``name`` (with ``hparams``) on the tasks ``means`` for ``n`` pulls each."""
    env = BernoulliBandits(means, rng)
    policy = make_policy(name, env.n_tasks, k, n, rng, **hparams)
    return run_policy(policy, env, n)


def tune(name: str, n: int, k: int, grid: list, n_tasks: int, rng: np.random.Generator,
         fixed: dict | None = None) -> tuple[object, dict]:
    """Pick the grid value of ``name``'s hyperparameter with the best mean total reward on ``n_tasks``
    fresh tuning tasks (the same tasks for every grid value). Returns (best value, {value: mean})."""
    key, _ = TUNED[name]
    means = sample_means(rng, n_tasks, k)
    seed = int(rng.integers(2**31))
    scores = {}
    for v in grid:
        res = evaluate(name, n, k, means, np.random.default_rng(seed), **{key: v}, **(fixed or {}))
        scores[v] = float(res["totals"].mean())
    best = max(grid, key=lambda v: scores[v])
    return best, scores
