"""Benchmark ``rl2``: environment steps per second of RL^2 training (PPO iterations over batched trials,
rollout + update) and of the bandit / tabular-MDP baselines (evaluation over a batch of tasks), on one
core. Medians over repeats after a warm-up (:func:`hrlmeta.bench.median_time`).

``python -m hrlmeta.bench rl2 [--repeats R] [--batch B]``
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from . import median_time


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench rl2")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256, help="trials (tasks) per RL^2 iteration")
    ap.add_argument("--tasks", type=int, default=1000, help="tasks per baseline evaluation")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)

    from ..algos import bandit_baselines as bb
    from ..algos import mdp_baselines as mb
    from ..algos import rl2
    from ..envs.bandits import sample_means
    from ..envs.tabular_mdp import sample_mdps

    out: dict[str, float] = {}
    cases = {
        "rl2_bandit_n10_k5": (rl2.BanditMetaEnv(10, 5), a.batch),
        "rl2_bandit_n100_k5": (rl2.BanditMetaEnv(100, 5), a.batch // 2),
        "rl2_mdp_n10": (rl2.TabularMDPMetaEnv(10), a.batch // 2),
    }
    for name, (env, batch) in cases.items():
        cfg = rl2.PPOConfig(iterations=1, batch_tasks=batch, torch_threads=1)
        t = median_time(lambda: rl2.train(env, cfg, seed=0), repeats=a.repeats, warmup=1)
        out[name] = batch * env.trial_length / t
    rng = np.random.default_rng(0)
    means = sample_means(rng, a.tasks, 10)
    for name, hp in (("greedy", {}), ("ucb1", {"c": 0.2}), ("thompson", {}), ("ots", {"n_samples": 4}),
                     ("gittins_approx", {})):
        t = median_time(lambda: bb.evaluate(name, 100, 10, means, np.random.default_rng(1), **hp),
                        repeats=a.repeats)
        out[f"{name}_bandit_n100_k10"] = a.tasks * 100 / t
    t = median_time(lambda: bb.evaluate("gittins", 10, 10, means, np.random.default_rng(1)), repeats=a.repeats)
    out["gittins_dp_bandit_n10_k10"] = a.tasks * 10 / t
    R, P = sample_mdps(rng, a.tasks)
    for name, hp in (("psrl", {}), ("opsrl", {"n_samples": 3}), ("beb", {"beta": 1.0})):
        t = median_time(lambda: mb.evaluate(name, 10, R, P, 10, np.random.default_rng(1), **hp),
                        repeats=a.repeats)
        out[f"{name}_mdp_n10"] = a.tasks * 100 / t
    return {"config": {"batch": a.batch, "tasks": a.tasks, "repeats": a.repeats, "threads": 1},
            "env_steps_per_s": {k: round(v, 1) for k, v in out.items()}, "device": "cpu"}
