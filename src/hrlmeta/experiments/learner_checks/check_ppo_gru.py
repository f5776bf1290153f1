"""Check of the RL² learner: PPO with the GRU policy of :mod:`hrlmeta.algos.rl2`, on CartPole-v1 and on
CartPoleNoVel-v1 (CartPole-v1 with the velocity entries of the observation set to 0, rl-baselines3-zoo's
``MaskVelocityWrapper``).

The check runs the learner the RL² claims run (experiments ``bandits_duan`` and ``tabular_mdp_duan``):
:func:`hrlmeta.algos.rl2.train` -- the same :class:`~hrlmeta.algos.rl2.RL2Policy` (a GRU over
(observation, one-hot previous action, previous reward, previous done flag) with linear policy and value
heads), the same :func:`~hrlmeta.algos.rl2.rollout`, the same :func:`~hrlmeta.algos.rl2.ppo_update` with the
hand-written BPTT of :class:`~hrlmeta.algos.rl2.GRUSequence` -- on a meta-environment whose task is fixed,
:class:`~hrlmeta.algos.rl2.CartPoleMetaEnv`: a trial is one CartPole-v1 episode (the GRU's state is reset
at its start, as at every trial's, and the update backpropagates through whole episodes, as through RL²'s
whole trials), absorbed once the pole falls (the absorbed steps are masked out of the update).
``rl2.train`` stops once the training environment steps reach ``total_steps``; between iterations, every
``eval_every`` steps, the policy is evaluated by :func:`~hrlmeta.algos.rl2.evaluate`: the learner's own
convention, **actions sampled** from the stochastic policy, on ``eval_episodes`` fresh episodes.

The learner trains one seed at a time (RL²'s PPO has no seed-batched path; its batch is the trials of one
seed), so the seeds of a check run one after another.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

#: algorithm id -> (environment id written in the table, velocities hidden)
ENVS = {"ppo_gru_cartpole": ("CartPole-v1", False), "ppo_gru_cartpole_novel": ("CartPoleNoVel-v1", True)}


def make_env(algo: str, p: dict):
    """The CartPole meta-environment of an algorithm's block ``p``."""
    from ...algos import rl2

    _, novel = ENVS[algo]
    return rl2.CartPoleMetaEnv(horizon=int(p["horizon"]), mask_velocity=novel, normalize=bool(p["normalize"]))


def ppo_config(p: dict):
    """The learner's :class:`~hrlmeta.algos.rl2.PPOConfig` of a block ``p``: its ``ppo`` mapping, with
    ``iterations`` an upper bound (every iteration takes at least ``batch_tasks`` steps; training stops at
    ``total_steps``) and the schedules (learning rate, clip range, entropy bonus) running over
    ``total_steps`` environment steps."""
    from ...algos import rl2

    ppo = dict(p["ppo"])
    for key in ("iterations", "anneal_steps"):
        if key in ppo:
            raise KeyError(f"learner_checks: ppo.{key} is set by total_steps, not in the config")
    total = int(p["total_steps"])
    iterations = -(-total // int(ppo["batch_tasks"])) + 1
    return rl2.PPOConfig.from_params({**ppo, "iterations": iterations, "anneal_steps": total})


def train_one(algo: str, seed: int, p: dict) -> pd.DataFrame:
    """One seed: the evaluation rows of :func:`hrlmeta.algos.rl2.train` on the algorithm's CartPole, at 0
    training steps and after the first iteration past every multiple of ``eval_every`` and past
    ``total_steps`` (where training stops)."""
    from ...algos import rl2

    env_id, novel = ENVS[algo]
    env, eval_env = make_env(algo, p), make_env(algo, p)
    eval_env.obs_rms, eval_env.training = env.obs_rms, False   # evaluation reads the training statistics
    cfg = ppo_config(p)
    total, every, n_eval = int(p["total_steps"]), int(p["eval_every"]), int(p["eval_episodes"])
    run_seed = int(np.random.default_rng([int(seed), int(novel), 7]).integers(2**31))
    rows: list[dict] = []
    state = {"steps": 0, "iters": 0, "wall": 0.0, "next": 0}

    def evaluate(policy, entropy: float) -> None:
        t0 = time.perf_counter()
        ev_seed = int(np.random.default_rng([run_seed, len(rows), 11]).integers(2**31))
        ev = rl2.evaluate(policy, eval_env, n_eval, ev_seed)
        tot = ev["totals"]
        rows.append({"iteration": len(rows), "phase": "eval", "env_steps": state["steps"],
                     "return": float(tot.mean()), "return_std": float(tot.std()),
                     "return_min": float(tot.min()), "wall_s": state["wall"], "eval_wall_s": time.perf_counter() - t0,
                     "env": env_id, "ppo_iterations": state["iters"], "entropy": entropy})
        state["wall"] = 0.0
        state["next"] = (state["steps"] // every + 1) * every   # the next multiple of eval_every

    def callback(policy, row) -> bool:
        state["steps"] += int(row["env_steps"])
        state["iters"] += 1
        state["wall"] += float(row["wall_s"])
        done = state["steps"] >= total
        if state["steps"] >= state["next"] or done:
            evaluate(policy, float(row["entropy"]))
        return done

    # the untrained policy (0 steps): the initialisation rl2.train makes, evaluated before training
    evaluate(_initial_policy(env, cfg, run_seed), float("nan"))
    rl2.train(env, cfg, run_seed, callback=callback)
    return pd.DataFrame(rows)


def _initial_policy(env, cfg, seed: int):
    """The policy ``rl2.train(env, cfg, seed)`` starts from (its parameter initialisation, replayed)."""
    import torch

    from ...algos import rl2
    from ...numerics import configure_torch

    configure_torch(cfg.torch_threads)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return rl2.RL2Policy(env.obs_dim, env.n_actions, cfg.hidden, cfg.separate_value)


def train_batch(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    if algo not in ENVS:
        raise KeyError(f"check_ppo_gru: unknown algorithm {algo!r}; known: {', '.join(ENVS)}")
    return [train_one(algo, int(s), params) for s in seeds]
