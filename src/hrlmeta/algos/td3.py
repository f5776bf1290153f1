"""TD3 (Fujimoto, van Hoof & Meger 2018, "Addressing Function Approximation Error in Actor-Critic Methods"),
the learner of every agent of ``pointmaze_hiro`` (flat TD3, both levels of HIRO, the FeUdal-style variant).

- Clipped double-Q target: ``y = r + gamma * discount * min_j Q'_j(s', clip(pi'(s') + clip(eps, -c, c), -1, 1))``
  with ``eps ~ N(0, sigma_target^2)`` (target policy smoothing).
- Both critics live in one module (:class:`TwinCritic`): weights stacked on a leading axis of size 2 and
  evaluated with one batched matrix product per layer, so a minibatch update of both critics is one call.
- Delayed policy updates: the actor (ascending ``Q_1(s, pi(s))``) and the soft target updates
  (``theta' <- tau theta + (1 - tau) theta'``) run every ``policy_delay`` critic updates.
- Actions are normalised to [-1, 1] (tanh actor); environments scale them.

HIRO's appendix C: TD3's network structure with (300, 300) hidden layers, Adam with actor lr 1e-4 and
critic lr 1e-3, tau = 0.005, gamma = 0.99, replay 200,000, no gradient clipping. The released code uses a
Huber TD loss (``base_uvf.gin``); ``huber_delta = None`` gives TD3's squared loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class TD3Config:
    hidden: tuple = (300, 300)
    actor_lr: float = 1e-4
    critic_lr: float = 1e-3
    gamma: float = 0.99
    tau: float = 0.005
    policy_delay: int = 2
    target_noise: float = 0.2  # sigma of target policy smoothing (normalised action units)
    noise_clip: float = 0.5
    batch_size: int = 100
    huber_delta: float | None = 1.0  # None: squared TD error

    def __post_init__(self):
        for key in ("actor_lr", "critic_lr"):
            v = getattr(self, key)
            if not 0 < v <= 1:
                raise ValueError(f"td3.{key}: must be in (0, 1], got {v}")
        if not 0 <= self.gamma <= 1:
            raise ValueError(f"td3.gamma: must be in [0, 1], got {self.gamma}")
        if not 0 < self.tau <= 1:
            raise ValueError(f"td3.tau: must be in (0, 1], got {self.tau}")


def _uniform_(t: torch.Tensor, fan_in: int, gen: torch.Generator) -> torch.Tensor:
    """In-place U(-1/sqrt(fan_in), 1/sqrt(fan_in)), torch.nn.Linear's default bias/weight bound."""
    bound = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        t.uniform_(-bound, bound, generator=gen)
    return t


class Actor(nn.Module):
    """Deterministic policy: MLP with ReLU hidden layers and a tanh output in [-1, 1]^act_dim."""

    def __init__(self, in_dim: int, act_dim: int, hidden, gen: torch.Generator):
        super().__init__()
        sizes = [in_dim, *hidden, act_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for lin in self.layers:
            _uniform_(lin.weight, lin.in_features, gen)
            _uniform_(lin.bias, lin.in_features, gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for lin in self.layers[:-1]:
            x = torch.relu(lin(x))
        return torch.tanh(self.layers[-1](x))


class TwinCritic(nn.Module):
    """Two Q-networks Q_j(s, a) = MLP_j([s, a]) with stacked weights: ``forward`` returns (2, batch)."""

    def __init__(self, in_dim: int, hidden, gen: torch.Generator, n: int = 2):
        super().__init__()
        sizes = [in_dim, *hidden, 1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for a, b in zip(sizes[:-1], sizes[1:]):
            self.weights.append(nn.Parameter(_uniform_(torch.empty(n, a, b), a, gen)))
            self.biases.append(nn.Parameter(_uniform_(torch.empty(n, 1, b), a, gen)))

    def forward(self, x: torch.Tensor, heads: slice = slice(None)) -> torch.Tensor:
        w0 = self.weights[0][heads]
        h = x.unsqueeze(0).expand(w0.shape[0], *x.shape)
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b[heads], h, w[heads] if k else w0)
            if k < last:
                h = torch.relu(h)
        return h.squeeze(-1)

    def q1(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x, slice(0, 1))[0]


def td_target(critic_t: TwinCritic, actor_t: Actor, next_obs: torch.Tensor, reward: torch.Tensor,
              discount: torch.Tensor, cfg: TD3Config, gen: torch.Generator) -> torch.Tensor:
    """Clipped double-Q target with target policy smoothing (TD3 eq. 15 and Sec. 5.3)."""
    with torch.no_grad():
        a = actor_t(next_obs)
        eps = torch.randn(a.shape, generator=gen, device=a.device, dtype=a.dtype) * cfg.target_noise
        a = (a + eps.clamp(-cfg.noise_clip, cfg.noise_clip)).clamp(-1.0, 1.0)
        q = critic_t(torch.cat([next_obs, a], dim=-1)).min(dim=0).values
        return reward + cfg.gamma * discount * q


class TD3:
    """One TD3 learner. ``update(batch)`` = one critic step on a whole minibatch; every
    ``policy_delay``-th call also one actor step and the soft target updates."""

    def __init__(self, obs_dim: int, act_dim: int, cfg: TD3Config, gen: torch.Generator, device: str = "cpu"):
        self.cfg = cfg
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.device = device
        self.gen = gen  # on ``device``: target-smoothing noise
        # parameters are initialised on the CPU from a generator seeded by ``gen`` (any device), then moved
        seed = int(torch.randint(0, 2**62, (1,), generator=gen, device=gen.device).item())
        init = torch.Generator().manual_seed(seed)
        self.actor = Actor(obs_dim, act_dim, cfg.hidden, init).to(device)
        self.critic = TwinCritic(obs_dim + act_dim, cfg.hidden, init).to(device)
        self.actor_t = Actor(obs_dim, act_dim, cfg.hidden, init).to(device)
        self.critic_t = TwinCritic(obs_dim + act_dim, cfg.hidden, init).to(device)
        self.actor_t.load_state_dict(self.actor.state_dict())
        self.critic_t.load_state_dict(self.critic.state_dict())
        for p in (*self.actor_t.parameters(), *self.critic_t.parameters()):
            p.requires_grad_(False)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.actor_lr, foreach=True)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr, foreach=True)
        self.n_updates = 0

    # ------------------------------------------------------------------ acting
    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic actions mu(obs) for a batch of observations (numpy in, numpy out)."""
        with torch.no_grad():
            x = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
            return self.actor(x).cpu().numpy().astype(np.float64)

    # ------------------------------------------------------------------ learning
    def critic_loss(self, obs, act, target) -> torch.Tensor:
        q = self.critic(torch.cat([obs, act], dim=-1))  # (2, B)
        err = q - target.unsqueeze(0)
        if self.cfg.huber_delta is None:
            per = 0.5 * err.pow(2)
        else:
            d = self.cfg.huber_delta
            per = torch.where(err.abs() <= d, 0.5 * err.pow(2), d * (err.abs() - 0.5 * d))
        return per.mean(dim=1).sum()

    def update(self, obs, act, reward, next_obs, discount) -> dict:
        """One TD3 step on a minibatch of float32 tensors (obs (B, o), act (B, a), reward (B,),
        next_obs (B, o), discount (B,) in {0, 1})."""
        y = td_target(self.critic_t, self.actor_t, next_obs, reward, discount, self.cfg, self.gen)
        loss = self.critic_loss(obs, act, y)
        self.critic_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_opt.step()
        self.n_updates += 1
        out = {"critic_loss": float(loss.detach())}
        if self.n_updates % self.cfg.policy_delay == 0:
            a_loss = -self.critic.q1(torch.cat([obs, self.actor(obs)], dim=-1)).mean()
            self.actor_opt.zero_grad(set_to_none=True)
            a_loss.backward()
            self.actor_opt.step()
            self.critic.zero_grad(set_to_none=True)  # actor step's gradient into the critic is discarded
            soft_update(self.actor_t, self.actor, self.cfg.tau)
            soft_update(self.critic_t, self.critic, self.cfg.tau)
            out["actor_loss"] = float(a_loss.detach())
        return out


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    with torch.no_grad():
        t = list(target.parameters())
        s = list(source.parameters())
        torch._foreach_mul_(t, 1.0 - tau)
        torch._foreach_add_(t, s, alpha=tau)


class Replay:
    """Ring buffer of named float32 arrays; ``sample`` draws uniform indices from a numpy Generator."""

    def __init__(self, capacity: int, shapes: dict[str, tuple]):
        if capacity < 1:
            raise ValueError(f"replay capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.data = {k: np.zeros((self.capacity, *s), dtype=np.float32) for k, s in shapes.items()}
        self.size = 0
        self.ptr = 0

    def add(self, **batch: np.ndarray) -> None:
        """Append a batch of transitions (each array with a leading batch axis)."""
        n = len(next(iter(batch.values())))
        idx = (self.ptr + np.arange(n)) % self.capacity
        for k, v in batch.items():
            self.data[k][idx] = v
        self.ptr = int((self.ptr + n) % self.capacity)
        self.size = int(min(self.size + n, self.capacity))

    def sample(self, n: int, rng: np.random.Generator, device: str = "cpu") -> dict[str, torch.Tensor]:
        idx = rng.integers(0, self.size, size=n)
        return {k: torch.from_numpy(v[idx]).to(device) for k, v in self.data.items()}
