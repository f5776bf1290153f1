"""Soft actor-critic (Haarnoja et al. 2018) with a fixed entropy coefficient, as plain batched torch
functions over explicit parameter lists.

- Policy: tanh-squashed diagonal Gaussian, ``a = tanh(mean(o) + std(o) * eps)``, log-std clamped to
  ``[LOG_STD_MIN, LOG_STD_MAX]``; ``log pi(a|o)`` includes the tanh change of variables.
- Critics: two Q-networks stored as *stacked* weights (``(2, in, out)``), so both are evaluated in one
  ``baddbmm`` call per layer; target critics are Polyak averages (``tau``).
- Soft Bellman target (clipped double Q): ``y = r + gamma * (min_i Qbar_i(s', a') - alpha log pi(a'|s'))``
  with ``a' ~ pi(.|s')``; no termination (fixed-horizon episodes are time limits, so the target always
  bootstraps). Critic loss ``sum_i 0.5 E[(Q_i(s, a) - y)^2]``; actor loss
  ``E[alpha log pi(a|s) - min_i Q_i(s, a)]`` with ``a ~ pi(.|s)`` reparameterised and the critics held fixed.
- One update = every loss on the same minibatch, gradients taken at the current parameters, one Adam step
  (like the TF implementation, which runs all training ops in one session call), then the Polyak step.

Randomness only ever comes from an explicit ``torch.Generator``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

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
        x = torch.baddbmm(b, x, w) if w.dim() == 3 else torch.addmm(b, x, w)
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
                alpha: float) -> torch.Tensor:
    """Clipped double-Q soft Bellman target ``r + gamma (min_i q_next_i - alpha logp_next)``;
    ``q_next`` is ``(2, B)``."""
    return reward + gamma * (q_next.min(dim=0).values - alpha * logp_next)


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

    def losses(self, obs, act, reward, next_obs, eps: torch.Tensor):
        """Critic and actor losses on one minibatch. ``eps``: standard normal noise ``(2B, A)`` (first half
        for ``a' ~ pi(.|s')`` in the target, second half for the actor's reparameterised sample)."""
        c = self.cfg
        b = obs.shape[0]
        a_all, logp_all = policy_sample(self.actor, torch.cat([next_obs, obs]), eps)
        a_next, logp_next = a_all[:b].detach(), logp_all[:b].detach()
        a_pi, logp_pi = a_all[b:], logp_all[b:]
        with torch.no_grad():
            y = soft_target(reward, q_values(self.target, next_obs, a_next), logp_next, c.gamma, c.alpha)
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
        return policy_sample(self.actor, obs, eps)[0]
