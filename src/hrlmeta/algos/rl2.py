"""RL^2 (Duan, Schulman, Chen, Bartlett, Sutskever & Abbeel, 2016, "RL^2: Fast Reinforcement Learning via
Slow Reinforcement Learning"): a recurrent policy whose hidden state *is* the state of a fast learning
algorithm, trained across tasks by a slow, general-purpose RL algorithm.

Policy. A GRU reads, at every step t of a trial, the tuple (observation o_t, one-hot previous action
a_{t-1}, previous reward r_{t-1}, previous termination flag d_{t-1}) -- zeros at t = 0 -- and emits a
softmax policy over actions and a value estimate (two linear heads on the GRU state). The hidden state is
carried across all steps *and episodes* of one trial (one task) and reset to zero between trials, so
everything the policy knows about the current task lives in the hidden state.

Slow learner. CHOICE: PPO (Schulman et al., 2017) with GAE(gamma, lambda) instead of the paper's TRPO,
because PPO's first-order clipped objective needs no conjugate-gradient/line-search machinery, is the
standard modern substitute for TRPO at the same sample budget, and batches cleanly over whole trials
with torch's fused GRU. The trial is one long episode of the meta-MDP: advantages are computed over the
whole trial (episode boundaries inside a trial are not terminal), bootstrapping with 0 at the trial's
end. Each update does ``epochs`` passes of full-sequence BPTT over minibatches of trials. Value targets
are normalised by running return statistics (the value head predicts standardised returns).

CHOICE: a shared GRU torso for policy and value (the paper used separate networks), hidden size 64 by
default (paper: 256), both to fit a 2-core CPU budget. Evaluation samples actions from the trained
stochastic policy (the learned algorithm), on fresh tasks, with the hidden state reset per task.

Tasks plug in through a small vectorised *meta-environment* protocol (see :class:`MetaEnv`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


class MetaEnv:
    """Protocol of a batch of tasks played in lockstep for one trial of ``trial_length`` steps.

    ``obs_dim``, ``n_actions``, ``trial_length`` attributes;
    ``reset_trial(n_tasks, rng) -> obs (n_tasks, obs_dim)``: sample fresh tasks, start a trial;
    ``step(actions) -> (obs, rewards, done, info)``: ``done`` is True where an episode of the trial
    ended at this step (the next observation then starts the next episode); ``info`` may carry a
    per-task ``"regret"`` array.
    """

    obs_dim: int
    n_actions: int
    trial_length: int


class RL2Policy(nn.Module):
    """GRU policy + value heads over inputs (obs, one-hot a_{t-1}, r_{t-1}, d_{t-1})."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: int = 64):
        super().__init__()
        self.obs_dim, self.n_actions, self.hidden = obs_dim, n_actions, hidden
        self.in_dim = obs_dim + n_actions + 2
        self.gru = nn.GRU(self.in_dim, hidden)
        self.pi = nn.Linear(hidden, n_actions)
        self.v = nn.Linear(hidden, 1)
        nn.init.orthogonal_(self.pi.weight, gain=0.01)
        nn.init.zeros_(self.pi.bias)

    def initial_state(self, batch: int) -> torch.Tensor:
        """Hidden state at the start of a trial (a new task): zeros."""
        return torch.zeros(1, batch, self.hidden)

    def make_input(self, obs, prev_action, prev_reward, prev_done) -> torch.Tensor:
        """(batch, in_dim) input; ``prev_action`` < 0 means "no previous action" (trial start)."""
        obs = torch.as_tensor(obs, dtype=torch.float32)
        b = obs.shape[0]
        pa = torch.as_tensor(prev_action, dtype=torch.long)
        onehot = torch.zeros(b, self.n_actions)
        has = pa >= 0
        onehot[has, pa[has]] = 1.0
        r = torch.as_tensor(prev_reward, dtype=torch.float32).reshape(b, 1)
        d = torch.as_tensor(np.array(prev_done, dtype=np.float32)).reshape(b, 1)
        return torch.cat([obs, onehot, r, d], dim=1)

    def step(self, x: torch.Tensor, h: torch.Tensor):
        """One step: x (batch, in_dim), h (1, batch, hidden) -> logits, value, new h."""
        out, h = self.gru(x[None], h)
        out = out[0]
        return self.pi(out), self.v(out).squeeze(-1), h

    def forward_seq(self, X: torch.Tensor, h0: torch.Tensor | None = None):
        """Whole trials: X (T, batch, in_dim) -> logits (T, batch, A), values (T, batch)."""
        if h0 is None:
            h0 = self.initial_state(X.shape[1])
        out, _ = self.gru(X, h0)
        return self.pi(out), self.v(out).squeeze(-1)


@dataclass
class PPOConfig:
    iterations: int = 100
    batch_tasks: int = 256          # trials per iteration
    hidden: int = 64
    lr: float = 3e-3
    gamma: float = 0.99
    gae_lambda: float = 0.3
    clip: float = 0.2
    epochs: int = 4
    minibatches: int = 4
    entropy_coef: float = 0.01
    entropy_coef_final: float = 0.0  # linearly annealed to this value over training
    value_coef: float = 0.5
    max_grad_norm: float = 1.0
    torch_threads: int = 1

    @classmethod
    def from_params(cls, p: dict) -> "PPOConfig":
        known = set(cls.__dataclass_fields__)
        bad = [k for k in p if k not in known]
        if bad:
            raise KeyError(f"rl2: unknown training parameter(s) {bad}; known: {sorted(known)}")
        return cls(**p)


def rollout(policy: RL2Policy, env: MetaEnv, n_tasks: int, rng: np.random.Generator,
            gen: torch.Generator, record: bool = True) -> dict:
    """Play one trial in ``n_tasks`` fresh tasks with the hidden state reset at the trial's start."""
    T = env.trial_length
    obs = env.reset_trial(n_tasks, rng)
    h = policy.initial_state(n_tasks)
    prev_a = np.full(n_tasks, -1)
    prev_r = np.zeros(n_tasks)
    prev_d = np.zeros(n_tasks)
    X = torch.zeros(T, n_tasks, policy.in_dim) if record else None
    A = torch.zeros(T, n_tasks, dtype=torch.long)
    LP = torch.zeros(T, n_tasks)
    V = torch.zeros(T, n_tasks)
    Rw = np.zeros((T, n_tasks))
    regret = np.zeros(T)
    with torch.no_grad():
        for t in range(T):
            x = policy.make_input(obs, prev_a, prev_r, prev_d)
            logits, v, h = policy.step(x, h)
            probs = torch.softmax(logits, dim=-1)
            a = torch.multinomial(probs, 1, generator=gen).squeeze(1)
            if record:
                X[t] = x
                LP[t] = torch.log(probs.gather(1, a[:, None]).squeeze(1) + 1e-12)
                V[t] = v
            A[t] = a
            a_np = a.numpy()
            obs, r, done, info = env.step(a_np)
            Rw[t] = r
            if "regret" in info:
                regret[t] = float(np.mean(info["regret"]))
            prev_a, prev_r = a_np, r
            prev_d = np.broadcast_to(np.asarray(done, dtype=float), (n_tasks,))
    return {"X": X, "A": A, "logp": LP, "values": V, "rewards": Rw, "regret_per_step": regret}


def gae(rewards: np.ndarray, values: np.ndarray, gamma: float, lam: float) -> np.ndarray:
    """GAE advantages over a whole trial (T, batch); the trial's end is terminal (bootstrap 0)."""
    T = rewards.shape[0]
    adv = np.zeros_like(rewards)
    last = np.zeros(rewards.shape[1])
    for t in range(T - 1, -1, -1):
        nxt = values[t + 1] if t + 1 < T else 0.0
        delta = rewards[t] + gamma * nxt - values[t]
        last = delta + gamma * lam * last
        adv[t] = last
    return adv


class RunningStats:
    """Mean/std of value targets across iterations (Chan et al. parallel update)."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def update(self, x: np.ndarray):
        x = np.asarray(x, float).ravel()
        nb, mb, vb = x.size, x.mean(), x.var()
        n = self.n + nb
        delta = mb - self.mean
        self.mean += delta * nb / n
        self.m2 += vb * nb + delta**2 * self.n * nb / n
        self.n = n

    @property
    def std(self) -> float:
        return float(np.sqrt(self.m2 / self.n)) if self.n > 1 and self.m2 > 0 else 1.0


def train(env: MetaEnv, cfg: PPOConfig, seed: int, log=None) -> tuple[RL2Policy, list[dict]]:
    """Train an RL^2 policy on tasks from ``env``. Returns (policy, per-iteration log rows)."""
    torch.set_num_threads(cfg.torch_threads)
    torch.manual_seed(seed)  # parameter initialisation (nn.Module init uses the default generator)
    gen = torch.Generator().manual_seed(seed + 1)
    rng = np.random.default_rng([seed, 2])
    policy = RL2Policy(env.obs_dim, env.n_actions, cfg.hidden)
    opt = torch.optim.Adam(policy.parameters(), lr=cfg.lr, eps=1e-5)
    stats = RunningStats()
    rows = []
    for it in range(cfg.iterations):
        t0 = time.perf_counter()
        frac = it / max(cfg.iterations - 1, 1)
        ent_coef = cfg.entropy_coef + frac * (cfg.entropy_coef_final - cfg.entropy_coef)
        ro = rollout(policy, env, cfg.batch_tasks, rng, gen)
        values = ro["values"].numpy() * stats.std + stats.mean
        adv = gae(ro["rewards"], values, cfg.gamma, cfg.gae_lambda)
        ret = adv + values
        stats.update(ret)
        target = torch.as_tensor((ret - stats.mean) / stats.std, dtype=torch.float32)
        adv_t = torch.as_tensor((adv - adv.mean()) / (adv.std() + 1e-8), dtype=torch.float32)
        B = cfg.batch_tasks
        mb = max(B // cfg.minibatches, 1)
        for _ in range(cfg.epochs):
            perm = torch.randperm(B, generator=gen)
            for start in range(0, B, mb):
                idx = perm[start : start + mb]
                logits, v = policy.forward_seq(ro["X"][:, idx])
                logp_all = torch.log_softmax(logits, dim=-1)
                logp = logp_all.gather(2, ro["A"][:, idx, None]).squeeze(2)
                ratio = torch.exp(logp - ro["logp"][:, idx])
                a = adv_t[:, idx]
                pg = -torch.min(ratio * a, torch.clamp(ratio, 1 - cfg.clip, 1 + cfg.clip) * a).mean()
                vloss = 0.5 * ((v - target[:, idx]) ** 2).mean()
                entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
                loss = pg + cfg.value_coef * vloss - ent_coef * entropy
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
                opt.step()
        row = {
            "iteration": it,
            "return": float(ro["rewards"].sum(axis=0).mean()),
            "wall_s": time.perf_counter() - t0,
            "entropy": float(entropy.detach()),
        }
        rows.append(row)
        if log is not None:
            log(row)
    return policy, rows


def evaluate(policy: RL2Policy, env: MetaEnv, n_tasks: int, seed: int, chunk: int = 1000) -> dict:
    """Total reward per task of the trained policy on ``n_tasks`` fresh tasks (hidden state reset per
    task), plus per-step mean reward and regret curves."""
    rng = np.random.default_rng([seed, 3])
    gen = torch.Generator().manual_seed(seed + 3)
    totals, rew, reg = [], np.zeros(env.trial_length), np.zeros(env.trial_length)
    done = 0
    while done < n_tasks:
        b = min(chunk, n_tasks - done)
        ro = rollout(policy, env, b, rng, gen, record=False)
        totals.append(ro["rewards"].sum(axis=0))
        rew += ro["rewards"].mean(axis=1) * b
        reg += ro["regret_per_step"] * b
        done += b
    return {"totals": np.concatenate(totals), "reward_per_step": rew / n_tasks,
            "regret_per_step": reg / n_tasks}


# ----------------------------------------------------------------------------------------------------
# meta-environments of the two RL^2 experiments
# ----------------------------------------------------------------------------------------------------
class BanditMetaEnv(MetaEnv):
    """k-armed Bernoulli bandits, n pulls per trial; each pull is a one-step episode (constant obs)."""

    def __init__(self, n: int, k: int):
        from ..envs.bandits import BernoulliBandits, sample_means

        self._sample, self._cls = sample_means, BernoulliBandits
        self.n, self.k = int(n), int(k)
        self.obs_dim, self.n_actions, self.trial_length = 1, self.k, self.n
        self.env = None

    def reset_trial(self, n_tasks, rng):
        self.env = self._cls(self._sample(rng, n_tasks, self.k), rng)
        return np.ones((n_tasks, 1))

    def step(self, actions):
        regret = self.env.pseudo_regret(actions)
        r = self.env.pull(actions)
        return np.ones((len(r), 1)), r, True, {"regret": regret}


class TabularMDPMetaEnv(MetaEnv):
    """Random tabular MDPs, ``n_episodes`` episodes of ``horizon`` steps per trial; obs = one-hot state."""

    def __init__(self, n_episodes: int, horizon: int = 10, n_states: int = 10, n_actions: int = 5):
        self.n_episodes, self.horizon = int(n_episodes), int(horizon)
        self.nS = int(n_states)
        self.obs_dim, self.n_actions = self.nS, int(n_actions)
        self.trial_length = self.n_episodes * self.horizon
        self.env = None

    def _obs(self, s):
        o = np.zeros((len(s), self.nS))
        o[np.arange(len(s)), s] = 1.0
        return o

    def reset_trial(self, n_tasks, rng):
        from ..envs.tabular_mdp import TabularMDPs, sample_mdps

        R, P = sample_mdps(rng, n_tasks, self.nS, self.n_actions)
        self.env = TabularMDPs(R, P, self.horizon, rng)
        return self._obs(self.env.reset())

    def step(self, actions):
        s, r, done = self.env.step(actions)
        if done:
            s = self.env.reset()
        return self._obs(s), r, bool(done), {}
