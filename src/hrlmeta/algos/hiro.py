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

Episode ends: the released ``train.py`` stores the episode's last manager transition with discount
``discount * (1 - next_reset_episode_cond)``, i.e. not bootstrapped (``manager_terminal = True``); the worker's
transitions bootstrap through the time limit.

Vectorised over ``S`` seeds (each with its own generators; arrays (S, E, ...)) and ``E`` environments per seed.

Variants (``HiroConfig``): ``relabel="none"`` is the paper's "no off-policy correction" ablation;
``relabel="tpg"`` and ``worker_reward="cosine"`` are the FuN modifications of App. D.1 (see
:mod:`hrlmeta.algos.feudal`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .flat_td3 import explore, seed_uniform
from .td3 import TD3, Replay, TD3Config, _seed_noise

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
    buffer_size: int = 200_000  # both levels (released train_uvf.gin: agent/ and meta/CircularBuffer 200000)
    worker_updates: int = 1  # worker minibatch updates per seed per vectorised step
    manager_updates: int = 1  # manager minibatch updates per seed every c vectorised steps
    manager_terminal: bool = True  # the episode's last manager transition is not bootstrapped (released train.py)

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

    ``seq_obs`` (S, B, c, obs_dim) observations s_t .. s_{t+c-1}; ``seq_act`` (S, B, c, act_dim) normalised
    actions; ``cand`` (S, B, K, 2) candidate relative goals. Returns (S, B, K). One batched actor call.
    """
    S, B, c, o = seq_obs.shape
    K = cand.shape[2]
    xy = seq_obs[..., :2]
    goals = xy[:, :, None, :1, :] + cand[:, :, :, None, :] - xy[:, :, None, :, :]  # (S, B, K, c, 2)
    obs = seq_obs[:, :, None].expand(S, B, K, c, o)
    with torch.no_grad():
        mu = actor(worker_input(obs, goals, scale).reshape(S, B * K * c, o + 2)).reshape(S, B, K, c, -1)
    return -0.5 * (seq_act[:, :, None] - mu).pow(2).sum(dim=(-1, -2))


def candidate_goals(orig: torch.Tensor, delta: torch.Tensor, n: int, std: float, limit: float,
                    gens: list[torch.Generator]) -> torch.Tensor:
    """(S, B, 2 + n, 2): the original goal, s_{t+c} - s_t, and n Gaussian samples around the latter (std in
    goal units; seed ``s``'s from ``gens[s]``), all clipped to [-limit, limit]."""
    S, B, d = delta.shape
    noise = _seed_noise((B, n, d), gens, delta.device).to(delta.dtype) * std
    cand = torch.cat([orig[:, :, None], delta[:, :, None], delta[:, :, None] + noise], dim=2)
    return cand.clamp(-limit, limit)


def relabel_goals(actor, seq_obs, seq_act, end_xy, orig, cfg: HiroConfig, gens: list[torch.Generator]) -> torch.Tensor:
    """The relabelled (absolute-units) goals of minibatches of manager transitions, (S, B, 2)."""
    delta = end_xy - seq_obs[:, :, 0, :2]
    half = cfg.subgoal_range
    if cfg.relabel == "none":
        return orig
    if cfg.relabel == "tpg":  # FuN transition policy gradient analogue (App. D.1): goal ~ N(s_{t+c} - s_t, .)
        noise = _seed_noise(delta.shape[1:], gens, delta.device).to(delta.dtype) * (cfg.tpg_std * half)
        return (delta + noise).clamp(-half, half)
    cand = candidate_goals(orig, delta, cfg.n_candidates, cfg.candidate_std * half, half, gens)
    ll = action_log_likelihood(actor, seq_obs, seq_act, cand, cfg.input_scale)
    best = ll.argmax(dim=2)  # (S, B)
    return torch.gather(cand, 2, best[:, :, None, None].expand(*best.shape, 1, cand.shape[-1]))[:, :, 0]


# ----------------------------------------------------------------------------- the agent


class Hiro:
    """Two-level agent, vectorised over seeds and environments (protocol: see :mod:`hrlmeta.algos.flat_td3`)."""

    name = "hiro"

    def __init__(self, obs_dim: int, goal_dim: int, act_dim: int, cfg: HiroConfig, gens: list[torch.Generator],
                 device: str = "cpu"):
        self.cfg = cfg
        self.device = device
        self.gens = list(gens)
        self.S = len(self.gens)
        self.act_dim = act_dim
        self.obs_dim = obs_dim
        w_in = obs_dim + 2
        m_in = obs_dim + goal_dim
        self.worker = TD3(w_in, act_dim, cfg.worker, self.gens, device)
        self.manager = TD3(m_in, 2, cfg.manager, self.gens, device)
        self.w_buffer = Replay(self.S, cfg.buffer_size, {"obs": (w_in,), "act": (act_dim,), "rew": (),
                                                         "next_obs": (w_in,), "disc": ()})
        c = cfg.c
        self.m_buffer = Replay(self.S, cfg.buffer_size, {
            "obs": (obs_dim,), "goal": (goal_dim,), "act": (2,), "rew": (), "next_obs": (obs_dim,),
            "disc": (), "seq_obs": (c, obs_dim), "seq_act": (c, act_dim)})
        self._steps = 0
        self.updates_done = 0

    def decisions_per_episode(self, horizon: int) -> int:
        return -(-horizon // self.cfg.c)

    # ------------------------------------------------------------------ acting
    def reset(self, n: int, explore: bool) -> dict:
        c, S = self.cfg.c, self.S
        return {"explore": explore, "g": np.zeros((S, n, 2)), "g0": np.zeros((S, n, 2)), "start_obs": None,
                "R": np.zeros((S, n)), "seq_obs": np.zeros((S, n, c, self.obs_dim)),
                "seq_act": np.zeros((S, n, c, self.act_dim)), "subgoals": []}

    def _manager_input(self, obs, goal):
        s = self.cfg.input_scale
        return np.concatenate([obs[..., :2] * s, obs[..., 2:], goal * s], axis=-1).astype(np.float32)

    def act(self, ctx: dict, t: int, obs, goal, rngs, uniform: bool = False) -> np.ndarray:
        cfg = self.cfg
        S, n = obs.shape[:2]
        if t % cfg.c == 0:  # the manager decides a new relative subgoal
            if uniform:
                g = seed_uniform(-cfg.subgoal_range, cfg.subgoal_range, (n, 2), rngs)
            else:
                g = self.manager.act(self._manager_input(obs, goal)) * cfg.subgoal_range
                if ctx["explore"]:
                    g = np.clip(g + cfg.manager_noise * np.stack([r.standard_normal((n, 2)) for r in rngs]),
                                -cfg.subgoal_range, cfg.subgoal_range)
            ctx["g"] = g
            ctx["g0"] = g.copy()
            ctx["start_obs"] = obs.copy()
            ctx["R"] = np.zeros((S, n))
            ctx["subgoals"].append(obs[..., :2] + g)  # absolute target (for the maze figure)
        if uniform:
            return seed_uniform(-1.0, 1.0, (n, self.act_dim), rngs)
        a = self.worker.act(worker_input(obs, ctx["g"], cfg.input_scale).astype(np.float32))
        return explore(a, cfg.worker_noise, rngs) if ctx["explore"] else a

    def advance(self, ctx: dict, obs, next_obs) -> None:
        """Goal transition between manager decisions (used when acting without recording)."""
        ctx["g"] = goal_transition(obs[..., :2], ctx["g"], next_obs[..., :2])

    def record(self, ctx: dict, t: int, obs, action, next_obs, goal, last: bool = False, reward=None) -> None:
        """One step of every environment: the worker's transition, and the manager's every ``c`` steps.
        ``reward``: the environment's task reward (S, n) summed into the manager's; None = minus the distance
        of (x, y) to the task goal (the point maze's task reward)."""
        cfg = self.cfg
        xy, nxy = obs[..., :2], next_obs[..., :2]
        g = ctx["g"]
        g_next = goal_transition(xy, g, nxy)
        rfun = distance_reward if cfg.worker_reward == "distance" else cosine_reward
        r = rfun(xy, g, nxy) * cfg.worker_reward_scale
        s = cfg.input_scale
        ones = np.ones(r.shape)
        # CHOICE: the worker's next goal is h(s, g, s') at every step (also where the manager then
        # re-plans), so its value is that of the goal it was given; time limits bootstrap (discount 1)
        self.w_buffer.add(obs=worker_input(obs, g, s), act=action, rew=r, next_obs=worker_input(next_obs, g_next, s),
                          disc=ones)
        i = t % cfg.c
        ctx["seq_obs"][:, :, i] = obs
        ctx["seq_act"][:, :, i] = action
        ctx["R"] += -np.linalg.norm(nxy - goal, axis=-1) if reward is None else reward
        ctx["g"] = g_next
        if i == cfg.c - 1 or last:
            disc = ones * 0.0 if (last and cfg.manager_terminal) else ones
            self.m_buffer.add(obs=ctx["start_obs"], goal=goal, act=ctx["g0"] / cfg.subgoal_range,
                              rew=ctx["R"] * cfg.manager_reward_scale, next_obs=next_obs, disc=disc,
                              seq_obs=ctx["seq_obs"], seq_act=ctx["seq_act"])

    # ------------------------------------------------------------------ learning
    def train_step(self, rngs) -> None:
        cfg = self.cfg
        if self.w_buffer.size >= cfg.worker.batch_size:
            for _ in range(cfg.worker_updates):
                b = self.w_buffer.sample(cfg.worker.batch_size, rngs, self.device)
                self.worker.update(b["obs"], b["act"], b["rew"], b["next_obs"], b["disc"])
                self.updates_done += 1
        self._steps += 1
        if self._steps % cfg.c == 0 and self.m_buffer.size >= cfg.manager.batch_size:
            for _ in range(cfg.manager_updates):
                self.manager_update(rngs)

    def manager_update(self, rngs) -> None:
        cfg = self.cfg
        b = self.m_buffer.sample(cfg.manager.batch_size, rngs, self.device)
        g = relabel_goals(self.worker.actor, b["seq_obs"], b["seq_act"], b["next_obs"][..., :2],
                          b["act"] * cfg.subgoal_range, cfg, self.gens)
        s = cfg.input_scale

        def m_in(o, goal):
            return torch.cat([o[..., :2] * s, o[..., 2:], goal * s], dim=-1)

        self.manager.update(m_in(b["obs"], b["goal"]), g / cfg.subgoal_range, b["rew"],
                            m_in(b["next_obs"], b["goal"]), b["disc"])
