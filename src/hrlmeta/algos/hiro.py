"""HIRO: HIerarchical Reinforcement learning with Off-policy correction (Nachum, Gu, Lee & Levine 2018).

Two TD3 learners (:mod:`hrlmeta.algos.td3`):

- the higher level (manager) sees (observation, task goal) and every ``c`` steps emits a *relative* subgoal
  ``g_t`` in [-range, range]^2 for the (x, y) coordinates (Sec. 3.2; the released point-maze configuration
  uses a 2-D goal space with range 10: ``hiro_xy.gin``, ``point_maze.gin``). It is trained on transitions
  (s_t, g_t, sum_{i<c} R_{t+i} * manager_reward_scale, s_{t+c});
- the lower level (worker) sees (observation, current subgoal), is rewarded ``-||s_t + g_t - s_{t+1}||``
  (eq. 3) and the subgoal follows the goal transition ``h(s, g, s') = s + g - s'`` (eq. 2) between the
  manager's decisions.

Off-policy correction (Sec. 3.3, App. C.3): when a manager transition is sampled, its goal is relabelled
with the candidate ``g~`` that maximises the worker's log-likelihood of the stored actions,
``log mu(a_{t:t+c-1} | s_{t:t+c-1}, g~_{t:t+c-1}) = -1/2 sum_i ||a_i - mu_lo(s_i, g~_i)||^2 + const``
(eq. 5; the intermediate goals come from h, i.e. ``g~_i = s_t + g~ - s_i``). Candidates: the original goal,
``s_{t+c} - s_t``, and 8 samples from a Gaussian around it with standard deviation
``0.5 * (half the high-level action range)``, clipped to the range.

Variants (``HiroConfig``): ``relabel="none"`` is the paper's "no off-policy correction" ablation;
``relabel="tpg"`` and ``worker_reward="cosine"`` are the FuN modifications of App. D.1 (see
:mod:`hrlmeta.algos.feudal`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .flat_td3 import explore
from .td3 import TD3, Replay, TD3Config

RELABELS = ("hiro", "none", "tpg")
WORKER_REWARDS = ("distance", "cosine")


@dataclass(frozen=True)
class HiroConfig:
    worker: TD3Config = TD3Config()
    manager: TD3Config = TD3Config()
    c: int = 10  # manager decision period (paper: 10)
    subgoal_range: float = 10.0  # relative subgoals in [-range, range]^2 (point_maze.gin context_range)
    worker_noise: float = 0.1  # worker exploration sigma, normalised action units
    manager_noise: float = 1.0  # manager exploration sigma, goal units (paper: 1.0)
    worker_reward_scale: float = 1.0  # paper: 1.0 for the lower level
    manager_reward_scale: float = 0.1  # paper: 0.1 for the higher level
    relabel: str = "hiro"
    n_candidates: int = 8  # Gaussian candidates (plus the original goal and s_{t+c} - s_t)
    candidate_std: float = 0.5  # x half the high-level action range (App. C.3)
    tpg_std: float = 0.1  # FuN transition-PG relabelling: x half the range (App. D.1)
    worker_reward: str = "distance"
    input_scale: float = 0.1
    buffer_size: int = 200_000
    worker_updates: int = 1  # worker minibatch updates per vectorised step
    manager_updates: int = 1  # manager minibatch updates every c vectorised steps

    def __post_init__(self):
        if self.relabel not in RELABELS:
            raise ValueError(f"relabel: expected one of {RELABELS}, got {self.relabel!r}")
        if self.worker_reward not in WORKER_REWARDS:
            raise ValueError(f"worker_reward: expected one of {WORKER_REWARDS}, got {self.worker_reward!r}")
        if self.c < 1:
            raise ValueError(f"hiro.c: must be >= 1, got {self.c}")


# ----------------------------------------------------------------------------- rewards and goals


def goal_transition(xy: np.ndarray, g: np.ndarray, next_xy: np.ndarray) -> np.ndarray:
    """h(s, g, s') = s + g - s' (eq. 2): the same absolute target, relative to the new state."""
    return xy + g - next_xy


def distance_reward(xy, g, next_xy) -> np.ndarray:
    """HIRO's lower-level reward -||s + g - s'||_2 (eq. 3)."""
    return -np.linalg.norm(xy + g - next_xy, axis=-1)


def cosine_reward(xy, g, next_xy, eps: float = 1e-8) -> np.ndarray:
    """FuN's directional reward: cosine similarity between the step's displacement s' - s and the goal
    direction g (0 where either is zero, e.g. a step blocked by a wall)."""
    d = next_xy - xy
    num = (d * g).sum(axis=-1)
    den = np.linalg.norm(d, axis=-1) * np.linalg.norm(g, axis=-1)
    return np.where(den > eps, num / np.maximum(den, eps), 0.0)


def worker_input(obs, g, scale: float):
    """Worker network input [x, y, cos, sin, g] (positions and goals times ``scale``); numpy or torch."""
    cat = torch.cat if isinstance(obs, torch.Tensor) else np.concatenate
    return cat([obs[..., :2] * scale, obs[..., 2:], g * scale], -1)


# ----------------------------------------------------------------------------- off-policy correction


def action_log_likelihood(actor, seq_obs: torch.Tensor, seq_act: torch.Tensor, cand: torch.Tensor,
                          scale: float) -> torch.Tensor:
    """Log-likelihood (up to a constant, unit variance) of the stored worker actions under each candidate
    goal: ``-1/2 sum_i ||a_i - mu(s_i, s_0 + g~ - s_i)||^2``.

    ``seq_obs`` (B, c, obs_dim) observations s_t .. s_{t+c-1}; ``seq_act`` (B, c, act_dim) normalised
    actions; ``cand`` (B, K, 2) candidate relative goals. Returns (B, K). One batched actor call.
    """
    B, c, _ = seq_obs.shape
    K = cand.shape[1]
    xy = seq_obs[:, :, :2]
    goals = xy[:, None, :1, :] + cand[:, :, None, :] - xy[:, None, :, :]  # (B, K, c, 2)
    obs = seq_obs[:, None].expand(B, K, c, seq_obs.shape[-1])
    with torch.no_grad():
        mu = actor(worker_input(obs, goals, scale))  # (B, K, c, act)
    return -0.5 * (seq_act[:, None] - mu).pow(2).sum(dim=(-1, -2))


def candidate_goals(orig: torch.Tensor, delta: torch.Tensor, n: int, std: float, limit: float,
                    gen: torch.Generator) -> torch.Tensor:
    """(B, 2 + n, 2): the original goal, s_{t+c} - s_t, and n Gaussian samples around the latter (std in
    goal units), all clipped to [-limit, limit]."""
    noise = torch.randn((delta.shape[0], n, delta.shape[1]), generator=gen, dtype=delta.dtype, device=delta.device) * std
    cand = torch.cat([orig[:, None], delta[:, None], delta[:, None] + noise], dim=1)
    return cand.clamp(-limit, limit)


def relabel_goals(actor, seq_obs, seq_act, end_xy, orig, cfg: HiroConfig, gen: torch.Generator) -> torch.Tensor:
    """The relabelled (absolute-units) goals of a minibatch of manager transitions (B, 2)."""
    delta = end_xy - seq_obs[:, 0, :2]
    half = cfg.subgoal_range
    if cfg.relabel == "none":
        return orig
    if cfg.relabel == "tpg":  # FuN transition policy gradient analogue (App. D.1): goal ~ N(s_{t+c} - s_t, .)
        noise = torch.randn(delta.shape, generator=gen, dtype=delta.dtype, device=delta.device) * (cfg.tpg_std * half)
        return (delta + noise).clamp(-half, half)
    cand = candidate_goals(orig, delta, cfg.n_candidates, cfg.candidate_std * half, half, gen)
    ll = action_log_likelihood(actor, seq_obs, seq_act, cand, cfg.input_scale)
    best = ll.argmax(dim=1)
    return cand[torch.arange(cand.shape[0]), best]


# ----------------------------------------------------------------------------- the agent


class Hiro:
    """Two-level agent, vectorised over environments (protocol: see :mod:`hrlmeta.algos.flat_td3`)."""

    name = "hiro"

    def __init__(self, obs_dim: int, goal_dim: int, act_dim: int, cfg: HiroConfig, gen: torch.Generator,
                 device: str = "cpu"):
        self.cfg = cfg
        self.device = device
        self.gen = gen
        self.act_dim = act_dim
        self.obs_dim = obs_dim
        w_in = obs_dim + 2
        m_in = obs_dim + goal_dim
        self.worker = TD3(w_in, act_dim, cfg.worker, gen, device)
        self.manager = TD3(m_in, 2, cfg.manager, gen, device)
        self.w_buffer = Replay(cfg.buffer_size, {"obs": (w_in,), "act": (act_dim,), "rew": (),
                                                 "next_obs": (w_in,), "disc": ()})
        c = cfg.c
        self.m_buffer = Replay(max(1, cfg.buffer_size // c), {
            "obs": (obs_dim,), "goal": (goal_dim,), "act": (2,), "rew": (), "next_obs": (obs_dim,),
            "disc": (), "seq_obs": (c, obs_dim), "seq_act": (c, act_dim)})
        self._steps = 0

    def decisions_per_episode(self, horizon: int) -> int:
        return -(-horizon // self.cfg.c)

    # ------------------------------------------------------------------ acting
    def reset(self, n: int, explore: bool) -> dict:
        c = self.cfg.c
        return {"explore": explore, "g": np.zeros((n, 2)), "g0": np.zeros((n, 2)), "start_obs": None,
                "R": np.zeros(n), "seq_obs": np.zeros((n, c, self.obs_dim)),
                "seq_act": np.zeros((n, c, self.act_dim)), "subgoals": []}

    def _manager_input(self, obs, goal):
        s = self.cfg.input_scale
        return np.concatenate([obs[:, :2] * s, obs[:, 2:], goal * s], axis=-1).astype(np.float32)

    def act(self, ctx: dict, t: int, obs, goal, rng: np.random.Generator, uniform: bool = False) -> np.ndarray:
        cfg = self.cfg
        n = len(obs)
        if t % cfg.c == 0:  # the manager decides a new relative subgoal
            if uniform:
                g = rng.uniform(-cfg.subgoal_range, cfg.subgoal_range, size=(n, 2))
            else:
                g = self.manager.act(self._manager_input(obs, goal)) * cfg.subgoal_range
                if ctx["explore"]:
                    g = np.clip(g + cfg.manager_noise * rng.standard_normal(g.shape),
                                -cfg.subgoal_range, cfg.subgoal_range)
            ctx["g"] = g
            ctx["g0"] = g.copy()
            ctx["start_obs"] = obs.copy()
            ctx["R"] = np.zeros(n)
            ctx["subgoals"].append(obs[:, :2] + g)  # absolute target (for the maze figure)
        if uniform:
            return rng.uniform(-1.0, 1.0, size=(n, self.act_dim))
        a = self.worker.act(worker_input(obs, ctx["g"], cfg.input_scale).astype(np.float32))
        return explore(a, cfg.worker_noise, rng) if ctx["explore"] else a

    def advance(self, ctx: dict, obs, next_obs) -> None:
        """Goal transition between manager decisions (used when acting without recording)."""
        ctx["g"] = goal_transition(obs[:, :2], ctx["g"], next_obs[:, :2])

    def record(self, ctx: dict, t: int, obs, action, next_obs, goal) -> None:
        cfg = self.cfg
        xy, nxy = obs[:, :2], next_obs[:, :2]
        g = ctx["g"]
        g_next = goal_transition(xy, g, nxy)
        rfun = distance_reward if cfg.worker_reward == "distance" else cosine_reward
        r = rfun(xy, g, nxy) * cfg.worker_reward_scale
        s = cfg.input_scale
        ones = np.ones(len(obs))
        # CHOICE: the worker's next goal is h(s, g, s') at every step (also where the manager then
        # re-plans), so its value is that of the goal it was given; time limits bootstrap (discount 1)
        self.w_buffer.add(obs=worker_input(obs, g, s), act=action, rew=r, next_obs=worker_input(next_obs, g_next, s),
                          disc=ones)
        i = t % cfg.c
        ctx["seq_obs"][:, i] = obs
        ctx["seq_act"][:, i] = action
        ctx["R"] += -np.linalg.norm(nxy - goal, axis=-1)
        ctx["g"] = g_next
        if i == cfg.c - 1:
            self.m_buffer.add(obs=ctx["start_obs"], goal=goal, act=ctx["g0"] / cfg.subgoal_range,
                              rew=ctx["R"] * cfg.manager_reward_scale, next_obs=next_obs, disc=ones,
                              seq_obs=ctx["seq_obs"], seq_act=ctx["seq_act"])

    # ------------------------------------------------------------------ learning
    def train_step(self, rng: np.random.Generator) -> None:
        cfg = self.cfg
        if self.w_buffer.size >= cfg.worker.batch_size:
            for _ in range(cfg.worker_updates):
                b = self.w_buffer.sample(cfg.worker.batch_size, rng, self.device)
                self.worker.update(b["obs"], b["act"], b["rew"], b["next_obs"], b["disc"])
        self._steps += 1
        if self._steps % cfg.c == 0 and self.m_buffer.size >= cfg.manager.batch_size:
            for _ in range(cfg.manager_updates):
                self.manager_update(rng)

    def manager_update(self, rng: np.random.Generator) -> None:
        cfg = self.cfg
        b = self.m_buffer.sample(cfg.manager.batch_size, rng, self.device)
        seq_obs = b["seq_obs"]
        g = relabel_goals(self.worker.actor, seq_obs, b["seq_act"], b["next_obs"][:, :2],
                          b["act"] * cfg.subgoal_range, cfg, self.gen)
        s = cfg.input_scale

        def m_in(o, goal):
            return torch.cat([o[:, :2] * s, o[:, 2:], goal * s], dim=-1)

        self.manager.update(m_in(b["obs"], b["goal"]), g / cfg.subgoal_range, b["rew"],
                            m_in(b["next_obs"], b["goal"]), b["disc"])
