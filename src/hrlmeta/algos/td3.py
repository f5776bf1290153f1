"""TD3 (Fujimoto, van Hoof & Meger 2018, "Addressing Function Approximation Error in Actor-Critic Methods"),
the learner of every agent of ``pointmaze_hiro`` (flat TD3, both levels of HIRO, the FeUdal-style variant),
for ``S`` independent seeds trained as one batch.

- Clipped double-Q target: ``y = r + gamma * discount * min_j Q'_j(s', clip(pi'(s') + clip(eps, -c, c), -1, 1))``
  with ``eps ~ N(0, sigma_target^2)`` (target policy smoothing).
- Delayed policy updates: the actor (ascending ``Q_1(s, pi(s))``) and the soft target updates
  (``theta' <- tau theta + (1 - tau) theta'``) run every ``policy_delay`` critic updates.
- Actions are normalised to [-1, 1] (tanh actor); environments scale them.

Seeds as a batch: every weight carries a leading seed axis (actor ``(S, in, out)``, the two critics of all
seeds ``(S * 2, in, out)``) and each layer is one stacked product (:func:`hrlmeta.blas.baddbmm`, numpy's OpenBLAS;
Adam: ``foreach``); the losses are per-seed means summed
over seeds, so seed ``s``'s gradient is exactly its own. Each seed has its own ``torch.Generator`` (weights
at construction, target-smoothing noise) and, in the replay, its own numpy ``Generator``: a seed's numbers
do not depend on which other seeds share the batch (``tests/test_pointmaze_hiro.py`` checks that a seed
trained alone and inside a batch ends with identical weights). ``S = 1`` is the single-seed learner.

HIRO's appendix C and the released ``configs/base_uvf.gin`` / ``train_uvf.gin``: (300, 300) hidden layers,
Adam with actor lr 1e-4 and critic lr 1e-3, tau = 0.005 (``td3_update_targets.tau``), gamma = 0.99, target
update period 2, batch 100, replay 200,000, Huber TD loss with delta 1 (``huber_delta = None`` gives TD3's
squared loss), no gradient clipping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import blas


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
    # the output layers' weights (actor and critics) ~ U(-out_init, out_init) (None: nn.Linear's default bound
    # 1/sqrt(fan_in), as the TD3 paper's code); HIRO's released networks (efficient-hrl agents/ddpg_networks.py,
    # after DDPG) and MushroomRL's TD3 benchmark networks use 0.003
    out_init: float | None = None

    def __post_init__(self):
        for key in ("actor_lr", "critic_lr"):
            v = getattr(self, key)
            if not 0 < v <= 1:
                raise ValueError(f"td3.{key}: must be in (0, 1], got {v}")
        if not 0 <= self.gamma <= 1:
            raise ValueError(f"td3.gamma: must be in [0, 1], got {self.gamma}")
        if not 0 < self.tau <= 1:
            raise ValueError(f"td3.tau: must be in (0, 1], got {self.tau}")
        if self.policy_delay < 1:
            raise ValueError(f"td3.policy_delay: must be >= 1, got {self.policy_delay}")
        if self.batch_size < 1:
            raise ValueError(f"td3.batch_size: must be >= 1, got {self.batch_size}")
        if self.out_init is not None and not self.out_init > 0:
            raise ValueError(f"td3.out_init: must be > 0 or null, got {self.out_init}")


def _uniform(shape, fan_in: int, gen: torch.Generator, bound: float | None = None) -> torch.Tensor:
    """U(-bound, bound), by default 1/sqrt(fan_in): torch.nn.Linear's default weight/bias bound."""
    bound = 1.0 / math.sqrt(fan_in) if bound is None else float(bound)
    return torch.empty(shape).uniform_(-bound, bound, generator=gen)


class BatchedMLP(nn.Module):
    """``n`` independent MLPs (ReLU hidden layers) evaluated together: input (n, B, in) -> (n, B, out).

    Weights (n, in, out) and biases (n, 1, out); network ``k`` is initialised from ``gens[k]`` (one
    generator per network, layer by layer, weight then bias, as ``nn.Linear`` bounds them; ``out_init``: the
    last layer's weight bound instead)."""

    def __init__(self, sizes, gens: list[torch.Generator], out_act=None, out_init: float | None = None):
        super().__init__()
        self.out_act = out_act
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        last = len(sizes) - 2
        per = [[(_uniform((a, b), a, g, out_init if k == last else None), _uniform((1, b), a, g))
                for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))] for g in gens]
        for k in range(len(sizes) - 1):
            self.weights.append(nn.Parameter(torch.stack([p[k][0] for p in per])))
            self.biases.append(nn.Parameter(torch.stack([p[k][1] for p in per])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = blas.baddbmm(b, x, w)
            if k < last:
                x = torch.relu(x)
        return torch.tanh(x) if self.out_act == "tanh" else x


class Actors(BatchedMLP):
    """Deterministic policies of S seeds: (S, B, obs) -> (S, B, act) in [-1, 1] (tanh output)."""

    def __init__(self, in_dim: int, act_dim: int, hidden, gens, out_init: float | None = None):
        super().__init__([in_dim, *hidden, act_dim], gens, out_act="tanh", out_init=out_init)


class TwinCritics(BatchedMLP):
    """Two Q-networks per seed, ``Q_{s,j}(x) = MLP_{2s+j}(x)``: (S, B, in) -> (S, 2, B)."""

    def __init__(self, in_dim: int, hidden, gens, out_init: float | None = None):
        super().__init__([in_dim, *hidden, 1], [g for g in gens for _ in range(2)], out_init=out_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        S, B, d = x.shape
        h = x.unsqueeze(1).expand(S, 2, B, d).reshape(2 * S, B, d)
        return super().forward(h).reshape(S, 2, B)

    def q1(self, x: torch.Tensor) -> torch.Tensor:
        """The first critic of every seed only: (S, B, in) -> (S, B)."""
        h = x
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = blas.baddbmm(b[0::2].contiguous(), h, w[0::2].contiguous())
            if k < last:
                h = torch.relu(h)
        return h.squeeze(-1)


def _seed_noise(shape, gens: list[torch.Generator], device) -> torch.Tensor:
    """(S, *shape) standard normal noise, seed ``s`` from ``gens[s]`` alone."""
    return torch.stack([torch.randn(shape, generator=g, device=device) for g in gens])


def td_target(critic_t: TwinCritics, actor_t: Actors, next_obs: torch.Tensor, reward: torch.Tensor,
              discount: torch.Tensor, cfg: TD3Config, gens: list[torch.Generator]) -> torch.Tensor:
    """Clipped double-Q target with target policy smoothing (TD3 eq. 15 and Sec. 5.3); all (S, B, ...)."""
    with torch.no_grad():
        a = actor_t(next_obs)
        eps = _seed_noise(a.shape[1:], gens, a.device) * cfg.target_noise
        a = (a + eps.clamp(-cfg.noise_clip, cfg.noise_clip)).clamp(-1.0, 1.0)
        q = critic_t(torch.cat([next_obs, a], dim=-1)).min(dim=1).values
        return reward + cfg.gamma * discount * q


def td_loss(err: torch.Tensor, huber_delta: float | None) -> torch.Tensor:
    """Elementwise TD loss: 0.5 err^2, or Huber with threshold ``huber_delta``."""
    if huber_delta is None:
        return 0.5 * err.pow(2)
    d = huber_delta
    return torch.where(err.abs() <= d, 0.5 * err.pow(2), d * (err.abs() - 0.5 * d))


class TD3:
    """TD3 learners of S seeds. ``update(batch)`` = one critic step per seed on its minibatch; every
    ``policy_delay``-th call also one actor step and the soft target updates. ``gens``: one torch
    generator per seed (on ``device``)."""

    def __init__(self, obs_dim: int, act_dim: int, cfg: TD3Config, gens: list[torch.Generator], device: str = "cpu"):
        self.cfg = cfg
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.device = device
        self.gens = list(gens)
        self.S = len(self.gens)
        # parameters are initialised on the CPU from a generator seeded by each seed's ``gen``, then moved
        init = []
        for g in self.gens:
            seed = int(torch.randint(0, 2**62, (1,), generator=g, device=g.device).item())
            init.append(torch.Generator().manual_seed(seed))
        self.actor = Actors(obs_dim, act_dim, cfg.hidden, init, cfg.out_init).to(device)
        self.critic = TwinCritics(obs_dim + act_dim, cfg.hidden, init, cfg.out_init).to(device)
        self.actor_t = Actors(obs_dim, act_dim, cfg.hidden, init, cfg.out_init).to(device)
        self.critic_t = TwinCritics(obs_dim + act_dim, cfg.hidden, init, cfg.out_init).to(device)
        self.actor_t.load_state_dict(self.actor.state_dict())
        self.critic_t.load_state_dict(self.critic.state_dict())
        for p in (*self.actor_t.parameters(), *self.critic_t.parameters()):
            p.requires_grad_(False)
        # foreach, not fused, Adam: fused Adam's vectorised kernel gave a seed different bits alone (S = 1) and
        # inside a batch of 8 after ~50 updates; foreach Adam keeps them identical
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.actor_lr, foreach=True)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr, foreach=True)
        self.n_updates = 0

    # ------------------------------------------------------------------ acting
    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic actions mu(obs) for observations (S, B, obs_dim) (numpy in, numpy out)."""
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)
            return self.actor(x).cpu().numpy().astype(np.float64)

    # ------------------------------------------------------------------ learning
    def update(self, obs, act, reward, next_obs, discount) -> dict:
        """One TD3 step per seed on float32 tensors: obs (S, B, o), act (S, B, a), reward (S, B),
        next_obs (S, B, o), discount (S, B) in {0, 1}."""
        cfg = self.cfg
        y = td_target(self.critic_t, self.actor_t, next_obs, reward, discount, cfg, self.gens)
        q = self.critic(torch.cat([obs, act], dim=-1))  # (S, 2, B)
        # per seed: mean over the minibatch of each critic's loss, summed over the two critics
        loss = td_loss(q - y.unsqueeze(1), cfg.huber_delta).mean(dim=2).sum()
        self.critic_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_opt.step()
        self.n_updates += 1
        out = {"critic_loss": float(loss.detach()) / self.S}
        if self.n_updates % cfg.policy_delay == 0:
            a_loss = -self.critic.q1(torch.cat([obs, self.actor(obs)], dim=-1)).mean(dim=1).sum()
            self.actor_opt.zero_grad(set_to_none=True)
            a_loss.backward()
            self.actor_opt.step()
            self.critic.zero_grad(set_to_none=True)  # the actor step's gradient into the critic is discarded
            soft_update(self.actor_t, self.actor, cfg.tau)
            soft_update(self.critic_t, self.critic, cfg.tau)
            out["actor_loss"] = float(a_loss.detach()) / self.S
        return out


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """theta' <- tau theta + (1 - tau) theta' for every parameter."""
    with torch.no_grad():
        t = list(target.parameters())
        s = list(source.parameters())
        torch._foreach_mul_(t, 1.0 - tau)
        torch._foreach_add_(t, s, alpha=tau)


class Replay:
    """Ring buffers of named float32 arrays for S seeds (arrays (S, capacity, ...)); ``add`` appends the
    same number of transitions to every seed; ``sample`` draws seed ``s``'s indices from ``rngs[s]``.
    Arrays are allocated with ``np.zeros`` (pages untouched until written)."""

    def __init__(self, n_seeds: int, capacity: int, shapes: dict[str, tuple]):
        if capacity < 1:
            raise ValueError(f"replay capacity must be >= 1, got {capacity}")
        self.S = int(n_seeds)
        self.capacity = int(capacity)
        self.data = {k: np.zeros((self.S, self.capacity, *s), dtype=np.float32) for k, s in shapes.items()}
        self.size = 0
        self.ptr = 0

    def __getstate__(self) -> dict:
        """Pickled (a checkpoint) with the arrays as tensors sharing their memory: ``torch.save`` writes a
        tensor's storage straight from it, where a pickled numpy array is first copied into a bytes object
        (measured on HIRO's 8-seed buffers: the save's peak memory 4.1 GB -> about the buffers' own size)."""
        return {**self.__dict__, "data": {k: torch.from_numpy(v) for k, v in self.data.items()}}

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        state["data"] = {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in state["data"].items()}
        self.__dict__.update(state)

    def add(self, **batch: np.ndarray) -> None:
        """Append a batch of transitions to every seed (each array (S, n, ...))."""
        n = next(iter(batch.values())).shape[1]
        idx = (self.ptr + np.arange(n)) % self.capacity
        for k, v in batch.items():
            self.data[k][:, idx] = v
        self.ptr = int((self.ptr + n) % self.capacity)
        self.size = int(min(self.size + n, self.capacity))

    def sample(self, n: int, rngs: list[np.random.Generator], device: str = "cpu") -> dict[str, torch.Tensor]:
        idx = np.stack([r.integers(0, self.size, size=n) for r in rngs])
        rows = np.arange(self.S)[:, None]
        return {k: torch.from_numpy(v[rows, idx]).to(device) for k, v in self.data.items()}
