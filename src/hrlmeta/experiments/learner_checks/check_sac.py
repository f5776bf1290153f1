"""Learner check ``sac_pendulum``: SAC with a fixed temperature, as DIAYN trains it, on gymnasium's Pendulum-v1.

The same code as :class:`hrlmeta.algos.diayn.DiaynSeeds` runs: the seeds' agents are one
:class:`hrlmeta.algos.sac.SACSeeds` (tanh-Gaussian actor, twin critics, Polyak targets, every network with a
leading seed dimension), initialised by :meth:`~hrlmeta.algos.sac.SACSeeds.init` from each seed's generator,
one :class:`~hrlmeta.algos.sac.SeedAdam` over every parameter of every seed, and every gradient step is
:meth:`~hrlmeta.algos.sac.SACSeeds.update` (DIAYN adds its discriminator's loss to the same step; here there is
none). Acting is :meth:`~hrlmeta.algos.sac.SACSeeds.act`. What differs from DIAYN is the environment only: the
reward is the task's, the policy sees the task's observation, and the replay keeps ``terminated`` as the
done mask of the soft target (Pendulum-v1 never terminates, it is cut at 200 steps by its time limit, so the
mask is always 0 and the target always bootstraps, as in DIAYN).

Each seed steps one Pendulum-v1 environment (seeded from the run seed; later resets continue its random
stream), one update per environment step once the replay holds ``min_pool`` transitions (the reference's
``n_steps_per_fit`` 1). The policy's action in ``[-1, 1]`` is scaled to the action box (``2 a`` for
Pendulum's torque), the replay keeps the unscaled action.

Evaluation (rows): at 0 and every ``eval_every`` training steps, and at ``total_steps``, each seed's current
actor plays ``eval_episodes`` episodes of Pendulum-v1 with its mean action ``tanh(mu(s))`` (DIAYN's
claims' convention, :data:`hrlmeta.experiments.pointmass_diayn.analysis.EVAL_MODE`), from start states drawn from
evaluation seeds fixed per (run seed, episode), so every evaluation point of a run sees the same start
states. ``return`` is the mean undiscounted return of those episodes; ``return_std`` their standard
deviation; ``updates`` the gradient steps so far; ``wall_s`` the training wall seconds since the previous
point (evaluation excluded).
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pandas as pd
import torch

from ...algos import sac as S


def _seed_int(*key: int) -> int:
    """A 63-bit integer from a SeedSequence over ``key`` (one stream per purpose and run seed)."""
    state = np.random.SeedSequence([int(k) for k in key]).generate_state(2)
    return int((int(state[0]) << 32 | int(state[1])) & ((1 << 63) - 1))


def _generator(*key: int) -> torch.Generator:
    return torch.Generator().manual_seed(_seed_int(*key))


#: stream keys (second element of the SeedSequence key after the run seed)
_AGENT, _ENV, _EVAL = 0, 1, 2


def make_config(p: dict, obs_dim: int, act_dim: int) -> S.SACConfig:
    return S.SACConfig(obs_dim=obs_dim, act_dim=act_dim, hidden=tuple(p["hidden"]), lr=float(p["lr"]),
                       gamma=float(p["gamma"]), tau=float(p["tau"]), alpha=float(p["alpha"]))


def _scale(a: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """A policy action in [-1, 1] mapped to the box [low, high] (float32, as the environment's space)."""
    return (low + 0.5 * (a + 1.0) * (high - low)).astype(np.float32)


@torch.no_grad()
def evaluate(actor: list[torch.Tensor], env_id: str, seeds: list[int], low, high) -> np.ndarray:
    """Undiscounted returns of one episode per entry of ``seeds`` (each the reset seed of its episode), all
    stepped together, actions the actor's mean ``tanh(mu(s))`` (one seed's unstacked actor)."""
    envs = [gym.make(env_id) for _ in seeds]
    obs = np.stack([e.reset(seed=s)[0] for e, s in zip(envs, seeds)]).astype(np.float32)
    ret = np.zeros(len(envs))
    live = np.ones(len(envs), dtype=bool)
    while live.any():
        a = S.policy_mean_action(actor, torch.from_numpy(obs)).numpy()
        for i, e in enumerate(envs):
            if not live[i]:
                continue
            o, r, term, trunc, _ = e.step(_scale(a[i], low, high))
            obs[i] = o
            ret[i] += float(r)
            if term or trunc:
                live[i] = False
    for e in envs:
        e.close()
    return ret


def train_batch(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """Train ``seeds`` as one batch of SAC agents (see the module docstring); one table per seed, each the
    same as the seed's run alone."""
    p = params
    torch.set_num_threads(int(p["torch_threads"]))
    seeds = [int(s) for s in seeds]
    Sd = len(seeds)
    env_id = str(p["env"])
    total = int(p["total_steps"])
    every = int(p["eval_every"])
    n_eval = int(p["eval_episodes"])
    batch = int(p["batch_size"])
    min_pool = int(p["min_pool"])
    ups = float(p["updates_per_step"])
    if total < 1 or every < 1 or n_eval < 1 or batch < 1 or ups <= 0:
        raise ValueError(f"{algo}: total_steps, eval_every, eval_episodes, batch_size >= 1 and "
                         f"updates_per_step > 0 required")

    envs = [gym.make(env_id) for _ in seeds]
    space = envs[0].action_space
    low, high = np.asarray(space.low, dtype=np.float64), np.asarray(space.high, dtype=np.float64)
    obs_dim, act_dim = envs[0].observation_space.shape[0], space.shape[0]
    cfg = make_config(p, obs_dim, act_dim)
    gens = [_generator(s, _AGENT) for s in seeds]
    sac, _ = S.SACSeeds.init(cfg, gens)
    opt = S.SeedAdam(sac.parameters(), Sd, lr=cfg.lr)

    cap = min(int(p["buffer_size"]), total)
    rs = torch.zeros((Sd, cap, obs_dim))
    rs2 = torch.zeros((Sd, cap, obs_dim))
    ra = torch.zeros((Sd, cap, act_dim))
    rr = torch.zeros((Sd, cap))
    rd = torch.zeros((Sd, cap))
    rows_idx = torch.arange(Sd).unsqueeze(1)
    size, ptr = 0, 0

    obs = np.stack([e.reset(seed=_seed_int(s, _ENV))[0] for e, s in zip(envs, seeds)]).astype(np.float32)
    eval_seeds = [[_seed_int(s, _EVAL, j) for j in range(n_eval)] for s in seeds]
    rows: list[list[dict]] = [[] for _ in seeds]
    updates, owed = 0, 0.0
    clock = time.perf_counter()

    def on_eval(steps: int) -> None:
        nonlocal clock
        wall = time.perf_counter() - clock
        for k in range(Sd):
            ret = evaluate(sac.actor_of(k), env_id, eval_seeds[k], low, high)
            rows[k].append({"iteration": len(rows[k]), "phase": "eval", "env_steps": int(steps),
                            "return": float(ret.mean()), "return_std": float(ret.std()),
                            "updates": int(updates), "wall_s": float(wall), "env": env_id})
        clock = time.perf_counter()

    on_eval(0)
    steps = 0
    while steps < total:
        o = torch.from_numpy(obs.copy())
        a = sac.act(o.unsqueeze(1), gens)[:, 0]  # (S, A) in [-1, 1]
        an = a.numpy().astype(np.float64)
        nxt = np.empty_like(obs)
        rew = np.empty(Sd, dtype=np.float32)
        term = np.zeros(Sd, dtype=np.float32)
        for k, e in enumerate(envs):
            o2, r, te, tr, _ = e.step(_scale(an[k], low, high))
            nxt[k], rew[k], term[k] = o2, r, float(te)
            if te or tr:
                o2, _ = e.reset()
            obs[k] = o2
        rs[:, ptr], ra[:, ptr], rs2[:, ptr] = o, a, torch.from_numpy(nxt)
        rr[:, ptr], rd[:, ptr] = torch.from_numpy(rew), torch.from_numpy(term)
        ptr = (ptr + 1) % cap
        size = min(size + 1, cap)
        steps += 1
        if size >= min_pool:
            owed += ups
            while owed >= 1.0:
                idx = torch.stack([torch.randint(0, size, (batch,), generator=g) for g in gens])
                eps = torch.stack([torch.randn((2 * batch, act_dim), generator=g) for g in gens])
                sac.update(opt, rs[rows_idx, idx], ra[rows_idx, idx], rr[rows_idx, idx], rs2[rows_idx, idx],
                           eps, done=rd[rows_idx, idx])
                updates += 1
                owed -= 1.0
        if steps % every == 0 or steps == total:
            on_eval(steps)
    for e in envs:
        e.close()
    return [pd.DataFrame(r) for r in rows]
