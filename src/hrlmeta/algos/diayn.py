"""DIAYN, "Diversity is All You Need" (Eysenbach, Gupta, Ibarz & Levine, ICLR 2019), Algorithm 1, on
batched torch environments.

A skill ``z`` is drawn from the fixed uniform prior ``p(z)`` over ``K`` skills at the start of every episode
and held for the whole episode; the policy ``pi(a | s, z)`` sees the state and the skill's one-hot code.
A discriminator ``q_phi(z | s)`` (an MLP on the *state* only, softmax over skills) is trained by maximum
likelihood on the states the skills visit, and the policy is trained with SAC (:mod:`hrlmeta.algos.sac`,
fixed entropy coefficient alpha) on the pseudo-reward ``r = log q_phi(z | s') - log p(z)`` of the next state.
The pseudo-reward is computed at update time from the current discriminator, on the sampled minibatch.

``reward="zero"`` trains the same agent (same networks, same discriminator training, same budget) on the
reward 0: maximum-entropy RL with nothing that ties behaviour to ``z`` (the ``random_skills`` baseline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..envs.pointmass import PointMass
from . import sac as S

REWARDS = ("diayn", "zero")


@dataclass
class DiaynConfig:
    num_skills: int = 50
    hidden: tuple = (300, 300)        # policy, critics and discriminator
    lr: float = 3e-4
    gamma: float = 0.99
    tau: float = 0.01
    alpha: float = 0.1
    batch_size: int = 128
    buffer_size: int = 1_000_000
    n_envs: int = 10                  # environments stepped at once
    updates_per_step: float = 1.0     # gradient updates per environment transition
    min_pool: int = 1000              # transitions before the first update
    reward: str = "diayn"

    def __post_init__(self):
        if self.num_skills < 2:
            raise ValueError(f"agent.num_skills must be >= 2, got {self.num_skills}")
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.reward!r}")
        if self.updates_per_step <= 0:
            raise ValueError(f"agent.updates_per_step must be > 0, got {self.updates_per_step}")
        if self.batch_size < 1 or self.n_envs < 1:
            raise ValueError("agent.batch_size and agent.n_envs must be >= 1")


def skill_obs(pos: torch.Tensor, z: torch.Tensor, num_skills: int) -> torch.Tensor:
    """Policy input: the state followed by the skill's one-hot code."""
    return torch.cat([pos, torch.nn.functional.one_hot(z, num_skills).to(pos.dtype)], dim=-1)


def log_q(disc: list[torch.Tensor], states: torch.Tensor) -> torch.Tensor:
    """``log q_phi(. | s)`` for every skill, shaped ``(*batch, K)``."""
    return torch.log_softmax(S.mlp(disc, states.reshape(-1, states.shape[-1])), dim=-1).reshape(
        *states.shape[:-1], -1)


def pseudo_reward(disc: list[torch.Tensor], next_states: torch.Tensor, z: torch.Tensor, num_skills: int):
    """``log q_phi(z | s') - log p(z)`` with the uniform prior ``p(z) = 1 / K``."""
    lq = log_q(disc, next_states).gather(-1, z.unsqueeze(-1)).squeeze(-1)
    return lq + math.log(num_skills)


class Replay:
    """Preallocated FIFO replay of (s, z, a, s') transitions."""

    def __init__(self, capacity: int, obs_dim: int, act_dim: int):
        self.cap, self.size, self.ptr = int(capacity), 0, 0
        self.s = torch.zeros((self.cap, obs_dim))
        self.s2 = torch.zeros((self.cap, obs_dim))
        self.a = torch.zeros((self.cap, act_dim))
        self.z = torch.zeros(self.cap, dtype=torch.long)

    def add(self, s, z, a, s2) -> None:
        n = s.shape[0]
        idx = (self.ptr + torch.arange(n)) % self.cap
        self.s[idx], self.z[idx], self.a[idx], self.s2[idx] = s, z, a, s2
        self.ptr = (self.ptr + n) % self.cap
        self.size = min(self.size + n, self.cap)

    def sample(self, n: int, generator: torch.Generator):
        idx = torch.randint(0, self.size, (n,), generator=generator)
        return self.s[idx], self.z[idx], self.a[idx], self.s2[idx]


class Diayn:
    """One DIAYN (or zero-reward) agent: SAC over ``[s, onehot(z)]`` plus the discriminator."""

    def __init__(self, cfg: DiaynConfig, env: PointMass, generator: torch.Generator):
        self.cfg, self.env = cfg, env
        K = cfg.num_skills
        sac_cfg = S.SACConfig(obs_dim=env.obs_dim + K, act_dim=env.act_dim, hidden=tuple(cfg.hidden),
                              lr=cfg.lr, gamma=cfg.gamma, tau=cfg.tau, alpha=cfg.alpha)
        self.sac = S.SAC(sac_cfg, generator)
        self.disc = S.mlp_init([env.obs_dim, *cfg.hidden, K], generator)
        self.opt = torch.optim.Adam(self.sac.parameters() + self.disc, lr=cfg.lr, foreach=True)
        self.replay = Replay(min(cfg.buffer_size, 10**7), env.obs_dim, env.act_dim)
        self.gen = generator
        self.updates = 0

    def update(self) -> dict:
        c, K = self.cfg, self.cfg.num_skills
        s, z, a, s2 = self.replay.sample(c.batch_size, self.gen)
        eps = torch.randn((2 * c.batch_size, self.env.act_dim), generator=self.gen)
        if c.reward == "diayn":
            with torch.no_grad():
                r = pseudo_reward(self.disc, s2, z, K)
        else:
            r = torch.zeros(c.batch_size)
        critic_loss, actor_loss, stats = self.sac.losses(skill_obs(s, z, K), a, r, skill_obs(s2, z, K), eps)
        disc_loss = torch.nn.functional.cross_entropy(S.mlp(self.disc, s2), z)
        self.opt.zero_grad(set_to_none=True)
        (critic_loss + actor_loss + disc_loss).backward()
        self.opt.step()
        self.sac.update_target()
        self.updates += 1
        return stats

    @torch.no_grad()
    def rollout(self, z: torch.Tensor, deterministic: bool) -> torch.Tensor:
        """Positions of one episode per entry of ``z``: ``(horizon + 1, n, 2)``."""
        K = self.cfg.num_skills
        return self.env.rollout(
            lambda pos, t: self.sac.act(skill_obs(pos, z, K), self.gen, deterministic), z.shape[0])

    def train(self, total_steps: int, on_eval=None, eval_every: int | None = None, progress=None) -> None:
        """Collect ``total_steps`` transitions with ``n_envs`` environments stepped together (a new skill
        per environment and episode), updating after every vector step once the replay holds ``min_pool``
        transitions. ``on_eval(env_steps)`` is called at 0 and whenever ``env_steps`` reaches a multiple
        of ``eval_every``."""
        c, env, K = self.cfg, self.env, self.cfg.num_skills
        n = c.n_envs
        pos = env.reset(n)
        z = torch.randint(0, K, (n,), generator=self.gen)
        t, steps, owed = 0, 0, 0.0
        if on_eval is not None:
            on_eval(0)
        next_eval = eval_every if eval_every else None
        while steps < total_steps:
            a = self.sac.act(skill_obs(pos, z, K), self.gen)
            nxt = env.step(pos, a)
            self.replay.add(pos, z, a, nxt)
            pos, t, steps = nxt, t + 1, steps + n
            if t == env.horizon:
                pos, t = env.reset(n), 0
                z = torch.randint(0, K, (n,), generator=self.gen)
            if self.replay.size >= c.min_pool:
                owed += n * c.updates_per_step
                while owed >= 1.0:
                    self.update()
                    owed -= 1.0
            if progress is not None:
                progress(n)
            if next_eval is not None and steps >= next_eval:
                on_eval(steps)
                next_eval += eval_every


class DiaynSeeds:
    """``S`` independent DIAYN (or zero-reward) agents, one per seed, trained as one batch.

    Every network (actor, twin critics, discriminator) carries a leading seed dimension
    (:class:`hrlmeta.algos.sac.SACSeeds`), the replay memories are one ``(S, capacity, .)`` tensor, and all
    agents take their gradient steps together: one backward pass over the sum of the per-seed losses and one
    fused Adam step (Adam is elementwise, so each seed's step is its own). Every random draw of seed ``k``
    (initialisation, skills, actions, minibatch indices, noise) comes from ``generators[k]`` in the same
    order as :class:`Diayn`, so a seed's run is the same whether it is trained alone or inside a batch.
    The environments of all seeds are stepped as one batch of ``S * n_envs`` points (the point mass holds
    no random state)."""

    def __init__(self, cfg: DiaynConfig, env: PointMass, generators: list[torch.Generator]):
        self.cfg, self.env, self.gens = cfg, env, list(generators)
        self.S = len(self.gens)
        K = cfg.num_skills
        sac_cfg = S.SACConfig(obs_dim=env.obs_dim + K, act_dim=env.act_dim, hidden=tuple(cfg.hidden),
                              lr=cfg.lr, gamma=cfg.gamma, tau=cfg.tau, alpha=cfg.alpha)
        self.sac, self.disc = S.SACSeeds.init(
            sac_cfg, self.gens, extra=lambda g: S.mlp_init([env.obs_dim, *cfg.hidden, K], g))
        # one Adam over every parameter of every seed (one flat lane-padded tensor; elementwise per seed)
        self.opt = S.SeedAdam(self.sac.parameters() + self.disc, self.S, lr=cfg.lr)
        cap = min(cfg.buffer_size, 10**7)
        self.cap, self.size, self.ptr = int(cap), 0, 0
        self.rs = torch.zeros((self.S, self.cap, env.obs_dim))
        self.rs2 = torch.zeros((self.S, self.cap, env.obs_dim))
        self.ra = torch.zeros((self.S, self.cap, env.act_dim))
        self.rz = torch.zeros((self.S, self.cap), dtype=torch.long)
        self._rows = torch.arange(self.S).unsqueeze(1)
        self.updates = 0

    def _add(self, s, z, a, s2) -> None:
        n = s.shape[1]
        idx = (self.ptr + torch.arange(n)) % self.cap
        self.rs[:, idx], self.rz[:, idx], self.ra[:, idx], self.rs2[:, idx] = s, z, a, s2
        self.ptr = (self.ptr + n) % self.cap
        self.size = min(self.size + n, self.cap)

    def update(self) -> None:
        c, K, B = self.cfg, self.cfg.num_skills, self.cfg.batch_size
        idx = torch.stack([torch.randint(0, self.size, (B,), generator=g) for g in self.gens])
        eps = torch.stack([torch.randn((2 * B, self.env.act_dim), generator=g) for g in self.gens])
        rows = self._rows
        s, z, a, s2 = self.rs[rows, idx], self.rz[rows, idx], self.ra[rows, idx], self.rs2[rows, idx]
        logits = S.mlp(self.disc, s2)  # (S, B, K)
        lq = torch.log_softmax(logits, dim=-1)
        if c.reward == "diayn":
            r = lq.detach().gather(-1, z.unsqueeze(-1)).squeeze(-1) + math.log(K)
        else:
            r = torch.zeros(self.S, B)
        disc_loss = -lq.gather(-1, z.unsqueeze(-1)).squeeze(-1).mean(dim=1)
        # SAC's update (losses, one SeedAdam step, Polyak step) with the discriminator's loss in the same step
        self.sac.update(self.opt, skill_obs(s, z, K), a, r, skill_obs(s2, z, K), eps, extra_loss=disc_loss)
        self.updates += 1

    def agent(self, k: int) -> "SeedView":
        """Seed ``k``'s current networks, for evaluation."""
        return SeedView(self, k)

    def train(self, total_steps: int, on_eval=None, eval_every: int | None = None, progress=None) -> None:
        """As :meth:`Diayn.train`, for every seed at once; ``on_eval(env_steps)`` is called for the batch."""
        c, env, K = self.cfg, self.env, self.cfg.num_skills
        n, Sd = c.n_envs, self.S
        pos = env.reset(Sd * n).reshape(Sd, n, -1)
        z = torch.stack([torch.randint(0, K, (n,), generator=g) for g in self.gens])
        t, steps, owed = 0, 0, 0.0
        if on_eval is not None:
            on_eval(0)
        next_eval = eval_every if eval_every else None
        while steps < total_steps:
            a = self.sac.act(skill_obs(pos, z, K), self.gens)
            nxt = env.step(pos.reshape(Sd * n, -1), a.reshape(Sd * n, -1)).reshape(Sd, n, -1)
            self._add(pos, z, a, nxt)
            pos, t, steps = nxt, t + 1, steps + n
            if t == env.horizon:
                pos, t = env.reset(Sd * n).reshape(Sd, n, -1), 0
                z = torch.stack([torch.randint(0, K, (n,), generator=g) for g in self.gens])
            if self.size >= c.min_pool:
                owed += n * c.updates_per_step
                while owed >= 1.0:
                    self.update()
                    owed -= 1.0
            if progress is not None:
                progress(n)
            if next_eval is not None and steps >= next_eval:
                on_eval(steps)
                next_eval += eval_every


class SeedView:
    """One seed of a :class:`DiaynSeeds` batch with :class:`Diayn`'s evaluation interface (``cfg``,
    ``disc``, ``rollout``); acting noise comes from the caller's generator."""

    def __init__(self, batch: DiaynSeeds, k: int):
        self.cfg, self.env = batch.cfg, batch.env
        self.actor = batch.sac.actor_of(k)
        self.disc = [p[k].detach() for p in batch.disc]

    @torch.no_grad()
    def rollout(self, z: torch.Tensor, deterministic: bool, generator: torch.Generator) -> torch.Tensor:
        K, A = self.cfg.num_skills, self.env.act_dim

        def act(pos, t):
            o = skill_obs(pos, z, K)
            if deterministic:
                return S.policy_mean_action(self.actor, o)
            return S.policy_sample(self.actor, o, torch.randn((o.shape[0], A), generator=generator))[0]

        return self.env.rollout(act, z.shape[0])


# --------------------------------------------------------------------------- evaluation


def fresh_classifier_accuracy(states: torch.Tensor, z: torch.Tensor, num_skills: int, hidden, steps: int,
                              lr: float, generator: torch.Generator) -> float:
    """Accuracy of a classifier trained from scratch to tell the skill from a state, on held-out episodes.

    ``states`` (T, n, 2) are the visited states (s_1 .. s_T) of ``n`` evaluation episodes with skills ``z``;
    the first half of each skill's episodes trains a new MLP (``steps`` full-batch Adam steps,
    cross-entropy), the second half tests it (fraction of its states classified correctly).
    """
    train_ep, test_ep = [], []
    for k in range(num_skills):
        eps = torch.nonzero(z == k).flatten()
        if eps.numel() < 2:
            raise ValueError("eval.episodes_per_skill must be >= 2 for the held-out classifier")
        half = eps.numel() // 2
        train_ep.append(eps[:half])
        test_ep.append(eps[half:])
    tr, te = torch.cat(train_ep), torch.cat(test_ep)
    T = states.shape[0]
    x_tr, y_tr = states[:, tr].reshape(-1, 2), z[tr].repeat(T)
    x_te, y_te = states[:, te].reshape(-1, 2), z[te].repeat(T)
    net = S.mlp_init([2, *hidden, num_skills], generator)
    opt = torch.optim.Adam(net, lr=lr)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(S.mlp(net, x_tr), y_tr).backward()
        opt.step()
    with torch.no_grad():
        return float((S.mlp(net, x_te).argmax(-1) == y_te).float().mean())


def eval_skills(num_skills: int, per_skill: int) -> torch.Tensor:
    """Skill of every evaluation episode: each skill ``per_skill`` times, in order."""
    return torch.arange(num_skills).repeat_interleave(per_skill)


def as_float32_lists(x: torch.Tensor) -> list:
    """Rows of a (n, T) tensor as float32 numpy arrays (parquet list columns)."""
    return [np.asarray(r, dtype=np.float32) for r in x.cpu().numpy()]
