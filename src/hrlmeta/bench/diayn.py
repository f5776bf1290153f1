"""Benchmark ``diayn``: speed of the point-mass DIAYN agent on one core, at the default-scale settings of
``config/config.yaml`` (``pointmass_diayn``). Medians over repeats after a warm-up
(:func:`hrlmeta.bench.median_time`).

- ``env_steps_per_s``: point-mass transitions per second with the policy acting (no learning), the batch of
  ``--envs`` environments stepped at once (``batched``) and, measured in the same process, one environment
  at a time (``one_at_a_time``; the same code with a batch of 1); ``batched_speedup`` is their ratio.
- ``updates_per_s``: DIAYN gradient updates per second (minibatch, pseudo-reward, twin critics in one call,
  actor, discriminator, one Adam step, Polyak step).
- ``training_env_steps_per_s``: whole training (collection + updates at the configured updates per step).

``python -m hrlmeta.bench diayn [--repeats R] [--envs N] [--steps S]``
"""

from __future__ import annotations

import argparse

import torch

from . import median_time
from ..experiments import REGISTRY


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench diayn")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--envs", type=int, default=100, help="environments stepped at once (default 100)")
    ap.add_argument("--steps", type=int, default=4000, help="env steps of the timed training (default 4000)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    from ..algos import diayn as D
    from ..config import experiment_params, load_config
    from ..experiments.pointmass_diayn import analysis as TA
    from ..experiments.pointmass_diayn import training as E

    params = experiment_params(load_config(REGISTRY), "pointmass_diayn")
    env = TA.make_env(params, "open")
    cfg = E.make_config(params, "diayn")
    K = cfg.num_skills

    def rollout(n: int) -> None:
        agent = D.Diayn(cfg, env, torch.Generator().manual_seed(0))
        agent.rollout(torch.arange(n) % K, deterministic=False)

    n_one = max(1, args.envs // 10)  # fewer episodes for the slow path; rates are per transition
    t_batched = median_time(lambda: rollout(args.envs), repeats=args.repeats)
    t_one = median_time(lambda: [rollout(1) for _ in range(n_one)], repeats=args.repeats)
    batched = args.envs * env.horizon / t_batched
    one = n_one * env.horizon / t_one

    agent = D.Diayn(cfg, env, torch.Generator().manual_seed(0))
    agent.train(cfg.min_pool + cfg.n_envs)  # fill the replay past min_pool
    n_upd = 200
    t_upd = median_time(lambda: [agent.update() for _ in range(n_upd)], repeats=args.repeats)

    def training() -> None:
        D.Diayn(cfg, env, torch.Generator().manual_seed(1)).train(args.steps)

    t_train = median_time(training, repeats=max(1, args.repeats // 2))
    return {
        "env_steps_per_s": {"batched": batched, "one_at_a_time": one},
        "batched_speedup": batched / one,
        "updates_per_s": n_upd / t_upd,
        "training_env_steps_per_s": args.steps / t_train,
        "config": {"envs": args.envs, "horizon": env.horizon, "num_skills": K, "hidden": list(cfg.hidden),
                   "batch_size": cfg.batch_size, "updates_per_step": cfg.updates_per_step,
                   "min_pool": cfg.min_pool, "training_steps": args.steps, "threads": 1},
        "device": "cpu",
    }
