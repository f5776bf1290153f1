"""Soft actor-critic (Haarnoja et al. 2018) with a fixed entropy coefficient, as plain batched torch
functions over explicit parameter lists.

- Policy: tanh-squashed diagonal Gaussian, ``a = tanh(mean(o) + std(o) * eps)``, log-std clamped to
  ``[LOG_STD_MIN, LOG_STD_MAX]``; ``log pi(a|o)`` includes the tanh change of variables.
- Critics: two Q-networks stored as *stacked* weights (``(2, in, out)``), so both are evaluated in one
  :func:`hrlmeta.blas.baddbmm` call per layer (numpy's OpenBLAS); target critics are Polyak averages (``tau``).
- Soft Bellman target (clipped double Q): ``y = r + gamma * (min_i Qbar_i(s', a') - alpha log pi(a'|s'))``
  with ``a' ~ pi(.|s')``. Without a done mask (DIAYN: fixed-horizon episodes are time limits) the target
  always bootstraps; with one (``done`` = 1 where ``s'`` is terminal, never at a mere time limit) it is
  ``y = r + gamma * (1 - done) * (...)``. Critic loss ``sum_i 0.5 E[(Q_i(s, a) - y)^2]``; actor loss
  ``E[alpha log pi(a|s) - min_i Q_i(s, a)]`` with ``a ~ pi(.|s)`` reparameterised and the critics held fixed.
- One update = every loss on the same minibatch, gradients taken at the current parameters, one Adam step
  (like the TF implementation, which runs all training ops in one session call), then the Polyak step:
  :meth:`SACSeeds.update`, the one update of DIAYN's agents (with the discriminator's loss added to the
  same step) and of the learner check on Pendulum (hrlmeta.experiments.learner_checks.check_sac).

Randomness only ever comes from an explicit ``torch.Generator``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .. import blas

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
_LOG2 = math.log(2.0)


# --------------------------------------------------------------------------- MLPs over parameter lists


def mlp_init(sizes, generator: torch.Generator, stack: int | None = None) -> list[torch.Tensor]:
    """Weights ``(in, out)`` and biases ``(out,)`` of an MLP with layer sizes ``sizes``, initialised like
    ``torch.nn.Linear`` (uniform on +-1/sqrt(fan_in)); with ``stack=S``, ``S`` independent networks stored
    as ``(S, in, out)`` / ``(S, 1, out)``."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        lead = () if stack is None else (stack,)
        w = (torch.rand((*lead, fan_in, fan_out), generator=generator) * 2 - 1) * bound
        b = (torch.rand((*lead, 1, fan_out) if stack else (fan_out,), generator=generator) * 2 - 1) * bound
        params += [w.requires_grad_(), b.requires_grad_()]
    return params


def mlp(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """ReLU MLP, linear output. Stacked parameters take ``x`` shaped ``(S, B, in)``."""
    n = len(params) // 2
    for i in range(n):
        w, b = params[2 * i], params[2 * i + 1]
        x = blas.baddbmm(b, x, w) if w.dim() == 3 else torch.addmm(b, x, w)
        if i < n - 1:
            x = torch.relu(x)
    return x


# --------------------------------------------------------------------------- policy and critics


def policy_sample(actor: list[torch.Tensor], obs: torch.Tensor, eps: torch.Tensor):
    """Reparameterised sample ``a = tanh(mean + std * eps)`` and its log-density, shaped (B, A) and (B,)."""
    out = mlp(actor, obs)
    mean, log_std = out.chunk(2, dim=-1)
    log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
    u = mean + log_std.exp() * eps
    # log N(u; mean, std) - log |d tanh(u)/du|, with log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u))
    log_n = -0.5 * eps.pow(2) - log_std - 0.5 * math.log(2 * math.pi)
    log_det = 2.0 * (_LOG2 - u - torch.nn.functional.softplus(-2.0 * u))
    return torch.tanh(u), (log_n - log_det).sum(-1)


def policy_mean_action(actor: list[torch.Tensor], obs: torch.Tensor) -> torch.Tensor:
    """The deterministic action ``tanh(mean)``."""
    return torch.tanh(mlp(actor, obs).chunk(2, dim=-1)[0])


def q_values(critic: list[torch.Tensor], obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
    """Both critics in one call: ``(2, B)``."""
    x = torch.cat([obs, act], dim=-1)
    return mlp(critic, x.unsqueeze(0).expand(critic[0].shape[0], -1, -1)).squeeze(-1)


def soft_target(reward: torch.Tensor, q_next: torch.Tensor, logp_next: torch.Tensor, gamma: float,
                alpha: float, done: torch.Tensor | None = None) -> torch.Tensor:
    """Clipped double-Q soft Bellman target ``r + gamma (min_i q_next_i - alpha logp_next)``;
    ``q_next`` is ``(2, B)``. With ``done`` (1.0 where ``s'`` is terminal) the bootstrap is masked:
    ``r + gamma (1 - done) (...)``; without, it always bootstraps."""
    v_next = q_next.min(dim=0).values - alpha * logp_next
    return reward + gamma * v_next if done is None else reward + gamma * (1.0 - done) * v_next


@dataclass
class SACConfig:
    obs_dim: int
    act_dim: int
    hidden: tuple = (300, 300)
    lr: float = 3e-4
    gamma: float = 0.99
    tau: float = 0.01
    alpha: float = 0.1
    n_critics: int = 2

    def __post_init__(self):
        if not 0 < self.lr <= 1:
            raise ValueError(f"sac.lr must be in (0, 1], got {self.lr}")
        if not 0 <= self.gamma <= 1:
            raise ValueError(f"sac.gamma must be in [0, 1], got {self.gamma}")
        if not 0 < self.tau <= 1:
            raise ValueError(f"sac.tau must be in (0, 1], got {self.tau}")
        if self.alpha < 0:
            raise ValueError(f"sac.alpha must be >= 0, got {self.alpha}")


class SAC:
    """Parameters, target critics and the loss terms of one SAC agent (the optimiser lives with the caller,
    so that other losses, e.g. a discriminator's, can share the step)."""

    def __init__(self, cfg: SACConfig, generator: torch.Generator):
        self.cfg = cfg
        h = list(cfg.hidden)
        self.actor = mlp_init([cfg.obs_dim, *h, 2 * cfg.act_dim], generator)
        self.critic = mlp_init([cfg.obs_dim + cfg.act_dim, *h, 1], generator, stack=cfg.n_critics)
        self.target = [p.detach().clone() for p in self.critic]

    def parameters(self) -> list[torch.Tensor]:
        return self.actor + self.critic

    def losses(self, obs, act, reward, next_obs, eps: torch.Tensor, done: torch.Tensor | None = None):
        """Critic and actor losses on one minibatch. ``eps``: standard normal noise ``(2B, A)`` (first half
        for ``a' ~ pi(.|s')`` in the target, second half for the actor's reparameterised sample); ``done``
        (optional, ``(B,)``): 1.0 where ``next_obs`` is terminal (see :func:`soft_target`)."""
        c = self.cfg
        b = obs.shape[0]
        a_all, logp_all = policy_sample(self.actor, torch.cat([next_obs, obs]), eps)
        a_next, logp_next = a_all[:b].detach(), logp_all[:b].detach()
        a_pi, logp_pi = a_all[b:], logp_all[b:]
        with torch.no_grad():
            y = soft_target(reward, q_values(self.target, next_obs, a_next), logp_next, c.gamma, c.alpha, done)
        q = q_values(self.critic, obs, act)
        critic_loss = 0.5 * (q - y).pow(2).mean(dim=1).sum()
        q_pi = q_values([p.detach() for p in self.critic], obs, a_pi).min(dim=0).values
        actor_loss = (c.alpha * logp_pi - q_pi).mean()
        stats = {"q": q.detach().mean(), "logp": logp_pi.detach().mean()}
        return critic_loss, actor_loss, stats

    @torch.no_grad()
    def update_target(self) -> None:
        torch._foreach_lerp_(self.target, [p.detach() for p in self.critic], self.cfg.tau)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, generator: torch.Generator, deterministic: bool = False) -> torch.Tensor:
        if deterministic:
            return policy_mean_action(self.actor, obs)
        eps = torch.randn((obs.shape[0], self.cfg.act_dim), generator=generator)
        return policy_sample_seeds(self.actor, obs, eps)[0]


# --------------------------------------------------------------------------- S independent agents as one batch


def stack_seeds(per_seed: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    """Stack the parameter lists of ``S`` networks with the same shapes into one list with a leading seed
    dimension: weights ``(S, in, out)``, biases ``(S, 1, out)``; parameters already stacked (twin critics,
    ``(C, in, out)``) become ``(S * C, in, out)``, seed-major."""
    out = []
    for group in zip(*per_seed):
        ps = [p.detach() for p in group]
        if ps[0].dim() == 1:  # bias (out,) -> (1, out)
            ps = [p.unsqueeze(0) for p in ps]
        t = torch.cat(ps) if group[0].dim() == 3 else torch.stack(ps)
        out.append(t.contiguous().requires_grad_())
    return out


#: per-seed rows of elementwise work are padded to a multiple of this many floats (a multiple of every CPU
#: SIMD width torch uses, two AVX-512 vectors): torch's elementwise kernels run a vectorised body and a
#: scalar tail whose transcendental functions (exp, tanh, log1p) and fused multiply-adds round differently,
#: so an element's result would otherwise depend on where it falls in the whole batch, i.e. on the batch size.
LANE = 64


def lanes(fn, x: torch.Tensor) -> torch.Tensor:
    """``fn(x)`` for an elementwise ``fn``, computed on a ``(S, padded)`` copy of ``x`` (leading seed
    dimension) whose rows start and end on :data:`LANE` boundaries, so every seed's elements take the same
    vectorised code path whatever the number of seeds. Differentiable (the backward pass runs on the same
    padded layout)."""
    S = x.shape[0]
    flat = x.reshape(S, -1)
    n = flat.shape[1]
    pad = (-n) % LANE
    y = fn(torch.nn.functional.pad(flat, (0, pad)) if pad else flat)
    return (y[:, :n] if pad else y).reshape(x.shape)


def policy_sample_seeds(actor: list[torch.Tensor], obs: torch.Tensor, eps: torch.Tensor):
    """:func:`policy_sample` for ``S`` stacked actors, ``obs`` ``(S, B, o)``, ``eps`` ``(S, B, A)``, with
    every transcendental function applied lane-aligned per seed (:func:`lanes`)."""
    out = mlp(actor, obs)
    mean, log_std = out.chunk(2, dim=-1)
    log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
    u = mean + lanes(torch.exp, log_std) * eps
    log_n = -0.5 * eps.pow(2) - log_std - 0.5 * math.log(2 * math.pi)
    log_det = 2.0 * (_LOG2 - u - lanes(lambda v: torch.nn.functional.softplus(-2.0 * v), u))
    return lanes(torch.tanh, u), (log_n - log_det).sum(-1)


class SeedAdam:
    """Adam with torch.optim.Adam's update (defaults betas (0.9, 0.999), eps 1e-8) over parameters with a
    leading seed dimension, computed on one ``(S, P)`` tensor whose rows are padded to :data:`LANE`
    floats: one handful of kernels for every parameter of every seed, and each seed's arithmetic identical
    whatever the batch size (the gradients are gathered into the padded rows, the new values copied back)."""

    def __init__(self, params: list[torch.Tensor], n_seeds: int, lr: float, betas=(0.9, 0.999),
                 eps: float = 1e-8):
        self.params, self.S = list(params), int(n_seeds)
        self.lr, self.b1, self.b2, self.eps = lr, betas[0], betas[1], eps
        self.theta = flat_seeds(self.params, self.S)
        self.m, self.v = torch.zeros_like(self.theta), torch.zeros_like(self.theta)
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        g = flat_seeds([p.grad for p in self.params], self.S)
        self.t += 1
        self.m.lerp_(g, 1 - self.b1)
        self.v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        denom = (self.v.sqrt() / math.sqrt(c2)).add_(self.eps)
        self.theta.addcdiv_(self.m, denom, value=-self.lr / c1)
        unflat_seeds(self.theta, self.params, self.S)


def flat_seeds(params: list[torch.Tensor], n_seeds: int) -> torch.Tensor:
    """Parameters (leading dimension a multiple of ``n_seeds``, seed-major) as one ``(S, P)`` tensor, each
    row padded with zeros to a multiple of :data:`LANE`."""
    rows = [p.detach().reshape(n_seeds, -1) for p in params]
    n = sum(r.shape[1] for r in rows)
    pad = (-n) % LANE
    if pad:
        rows.append(torch.zeros((n_seeds, pad), dtype=rows[0].dtype, device=rows[0].device))
    return torch.cat(rows, dim=1)


def unflat_seeds(flat: torch.Tensor, params: list[torch.Tensor], n_seeds: int) -> None:
    """Copy the rows of :func:`flat_seeds` back into ``params`` (in place)."""
    views, srcs, off = [], [], 0
    for p in params:
        v = p.detach().view(n_seeds, -1)
        views.append(v)
        srcs.append(flat[:, off:off + v.shape[1]])
        off += v.shape[1]
    torch._foreach_copy_(views, srcs)


def q_values_seeds(critic: list[torch.Tensor], obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
    """Twin critics of ``S`` agents in one call: ``critic`` stacked ``(S * C, ...)``, ``obs`` ``(S, B, o)``,
    ``act`` ``(S, B, a)`` -> ``(S, C, B)``."""
    S, B = obs.shape[0], obs.shape[1]
    C = critic[0].shape[0] // S
    x = torch.cat([obs, act], dim=-1).unsqueeze(1).expand(S, C, B, -1).reshape(S * C, B, -1)
    return mlp(critic, x).reshape(S, C, B)


class SACSeeds:
    """``S`` independent SAC agents (one per seed) as one batch: every network carries a leading seed
    dimension and is evaluated with one stacked product (:func:`hrlmeta.blas.baddbmm`) per layer. Seed ``k``'s networks are initialised from
    its own generator exactly as :class:`SAC` would, and every loss is a per-seed quantity (means over that
    seed's minibatch only) summed over seeds, so the gradient a seed receives is the gradient of its own loss
    and its run does not depend on which other seeds share the batch."""

    def __init__(self, cfg: SACConfig, actor: list[torch.Tensor], critic: list[torch.Tensor]):
        self.cfg = cfg
        self.actor, self.critic = actor, critic
        self.S = actor[0].shape[0]
        self.target = [p.detach().clone() for p in self.critic]
        self._target_flat = flat_seeds(self.target, self.S)

    @classmethod
    def init(cls, cfg: SACConfig, generators: list[torch.Generator], extra=None) -> "SACSeeds":
        """Seed ``k``'s actor, then critics, initialised from ``generators[k]`` (as :class:`SAC`); ``extra(g)``,
        if given, is called right after with the same generator (e.g. to draw a discriminator) and its
        parameter lists are returned stacked as the second value."""
        h = list(cfg.hidden)
        actors, critics, extras = [], [], []
        for g in generators:
            actors.append(mlp_init([cfg.obs_dim, *h, 2 * cfg.act_dim], g))
            critics.append(mlp_init([cfg.obs_dim + cfg.act_dim, *h, 1], g, stack=cfg.n_critics))
            if extra is not None:
                extras.append(extra(g))
        agent = cls(cfg, stack_seeds(actors), stack_seeds(critics))
        return agent, (stack_seeds(extras) if extra is not None else None)

    def parameters(self) -> list[torch.Tensor]:
        return self.actor + self.critic

    def actor_of(self, k: int) -> list[torch.Tensor]:
        """Seed ``k``'s actor as an unstacked parameter list (weights (in, out), biases (1, out))."""
        return [p[k].detach() for p in self.actor]

    def losses(self, obs, act, reward, next_obs, eps: torch.Tensor, done: torch.Tensor | None = None):
        """Per-seed critic and actor losses ``(S,)`` on one minibatch per seed: ``obs`` ``(S, B, o)``,
        ``act`` ``(S, B, a)``, ``reward`` ``(S, B)``, ``eps`` ``(S, 2B, a)``, ``done`` (optional) ``(S, B)``
        (as :meth:`SAC.losses`)."""
        c = self.cfg
        b = obs.shape[1]
        a_all, logp_all = policy_sample_seeds(self.actor, torch.cat([next_obs, obs], dim=1), eps)
        a_next, logp_next = a_all[:, :b].detach(), logp_all[:, :b].detach()
        a_pi, logp_pi = a_all[:, b:], logp_all[:, b:]
        with torch.no_grad():
            q_next = q_values_seeds(self.target, next_obs, a_next)
            v_next = q_next.min(dim=1).values - c.alpha * logp_next
            y = reward + c.gamma * v_next if done is None else reward + c.gamma * (1.0 - done) * v_next
        q = q_values_seeds(self.critic, obs, act)
        critic_loss = 0.5 * (q - y.unsqueeze(1)).pow(2).mean(dim=2).sum(dim=1)
        q_pi = q_values_seeds([p.detach() for p in self.critic], obs, a_pi).min(dim=1).values
        actor_loss = (c.alpha * logp_pi - q_pi).mean(dim=1)
        return critic_loss, actor_loss

    def update(self, opt: "SeedAdam", obs, act, reward, next_obs, eps: torch.Tensor,
               done: torch.Tensor | None = None, extra_loss: torch.Tensor | None = None) -> None:
        """One SAC update of every seed: the per-seed losses (:meth:`losses`) on one minibatch per seed, plus
        ``extra_loss`` ``(S,)`` where given (DIAYN's discriminator, whose parameters ``opt`` also holds),
        summed over seeds, one backward pass, one step of ``opt`` (a :class:`SeedAdam` over every parameter
        of every seed), then the Polyak step of the target critics."""
        critic_loss, actor_loss = self.losses(obs, act, reward, next_obs, eps, done)
        total = critic_loss + actor_loss
        if extra_loss is not None:
            total = total + extra_loss
        opt.zero_grad()
        total.sum().backward()
        opt.step()
        self.update_target()

    @torch.no_grad()
    def update_target(self) -> None:
        """Polyak step ``target <- target + tau (critic - target)`` on lane-padded rows (see :class:`SeedAdam`)."""
        self._target_flat.lerp_(flat_seeds(self.critic, self.S), self.cfg.tau)
        unflat_seeds(self._target_flat, self.target, self.S)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, generators: list[torch.Generator]) -> torch.Tensor:
        """Stochastic actions ``(S, n, a)`` for observations ``(S, n, o)``, seed ``k``'s noise from
        ``generators[k]``."""
        n = obs.shape[1]
        eps = torch.stack([torch.randn((n, self.cfg.act_dim), generator=g) for g in generators])
        return policy_sample_seeds(self.actor, obs, eps)[0]
