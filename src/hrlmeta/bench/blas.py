"""Benchmark ``blas``: the torch agents' matrix products in numpy's OpenBLAS (:mod:`hrlmeta.blas`, AVX2
kernels pinned by name) against torch's MKL under its vendor-independent ``COMPATIBLE`` branch (the pinned
setting), in the same process, interleaved, on one thread; CPU seconds (``time.process_time``), medians.

- ``products``: one product of each shape the agents run (RL² rollout and update, MAML's policy on a
  nav2d meta-batch), microseconds per call and the ratio MKL / OpenBLAS.
- ``workloads``: an RL² PPO iteration (rollout + update; bandits n = 10, k = 5 and n = 100, k = 5, MDPs
  n = 10, default PPO settings) and a MAML / FOMAML meta-iteration (nav2d, default sizes), seconds per
  iteration under each backend and the speed-up.

``python -m hrlmeta.bench blas [--repeats R] [--quick]``
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch

from .. import blas
from . import median_cpu_time


def _interleaved(make, repeats: int) -> dict:
    """``make(backend)`` -> a no-argument callable; each backend timed in alternation."""
    out = {"torch": [], "numpy": []}
    for _ in range(repeats):
        for name in ("torch", "numpy"):
            with blas.backend(name):
                out[name].append(median_cpu_time(make(name), repeats=1, warmup=1))
    t, n = statistics.median(out["torch"]), statistics.median(out["numpy"])
    return {"mkl_compatible_s": t, "openblas_s": n, "speedup": t / n}


PRODUCT_SHAPES = {
    "rl2_rollout_bandit_hh (512x64 @ 64x192)": (512, 64, 192),
    "rl2_update_mdp_ih (3200x17 @ 17x192)": (3200, 17, 192),
    "rl2_update_mdp_hh_step (32x64 @ 64x192)": (32, 64, 192),
    "rl2_update_bandit_hh_step (128x64 @ 64x192)": (128, 64, 192),
    "maml_nav2d_hidden (40000x100 @ 100x100)": (40000, 100, 100),
}


def _products(repeats: int, quick: bool) -> dict:
    res = {}
    for name, (m, k, n) in PRODUCT_SHAPES.items():
        if quick:
            m = min(m, 256)
        g = torch.Generator().manual_seed(0)
        a, b = torch.randn(m, k, generator=g), torch.randn(k, n, generator=g)
        calls = max(1, int(2e8 // (m * k * n))) if not quick else 2

        def make(_):
            def run():
                for _ in range(calls):
                    blas.mm(a, b)
            return run
        r = _interleaved(make, repeats)
        res[name] = {"mkl_compatible_us": 1e6 * r["mkl_compatible_s"] / calls,
                     "openblas_us": 1e6 * r["openblas_s"] / calls, "speedup": r["speedup"]}
    return res


def _rl2(case: str, repeats: int, quick: bool) -> dict:
    from ..algos import rl2

    if case == "bandit_n10_k5":
        env, cfg = rl2.BanditMetaEnv(10, 5), rl2.PPOConfig(batch_tasks=512, epochs=2, minibatches=2)
    elif case == "bandit_n100_k5":
        env, cfg = rl2.BanditMetaEnv(100, 5), rl2.PPOConfig(batch_tasks=256, epochs=2, minibatches=2)
    else:
        env, cfg = rl2.TabularMDPMetaEnv(10), rl2.PPOConfig(batch_tasks=128, epochs=4, minibatches=4)
    if quick:
        cfg.batch_tasks, env = 16, (rl2.BanditMetaEnv(10, 5) if case.startswith("bandit") else rl2.TabularMDPMetaEnv(2))

    def make(_):
        torch.manual_seed(0)
        pol = rl2.RL2Policy(env.obs_dim, env.n_actions, cfg.hidden)
        opt = torch.optim.Adam(pol.parameters(), lr=cfg.lr, eps=1e-5, foreach=True)
        gen, rng, stats = torch.Generator().manual_seed(1), np.random.default_rng(0), rl2.RunningStats()

        def run():
            ro = rl2.rollout(pol, env, cfg.batch_tasks, rng, gen)
            rl2.ppo_update(pol, opt, ro, stats, cfg, 0.01, gen)
        return run
    return _interleaved(make, repeats)


def _maml(second_order: bool, repeats: int, quick: bool) -> dict:
    from ..algos import maml as M
    from ..envs.nav2d import Nav2D

    env, cfg = Nav2D(), M.MamlConfig(hvp_subsample=0.2)   # config.yaml's default curvature subsample
    if quick:
        env, cfg = Nav2D(horizon=20), M.MamlConfig(hidden=(16, 16), n_tasks=4, n_traj=4, hvp_subsample=0.2)

    def make(_):
        gen = torch.Generator().manual_seed(0)
        theta = M.init_policy(env.obs_dim, env.act_dim, cfg.hidden, gen, cfg.init_log_std)
        return lambda: M.meta_iteration(theta, env, cfg, gen, adapt_steps=1, second_order=second_order)
    return _interleaved(make, repeats)


def main(argv: list[str]) -> dict:
    p = argparse.ArgumentParser(prog="python -m hrlmeta.bench blas", description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    a = p.parse_args(argv)
    from ..numerics import configure_torch

    configure_torch(1)
    return {
        "device": "cpu", "threads": 1,
        "products": _products(a.repeats, a.quick),
        "workloads": {
            "rl2_ppo_iteration_bandit_n10_k5": _rl2("bandit_n10_k5", a.repeats, a.quick),
            "rl2_ppo_iteration_bandit_n100_k5": _rl2("bandit_n100_k5", a.repeats, a.quick),
            "rl2_ppo_iteration_mdp_n10": _rl2("mdp_n10", a.repeats, a.quick),
            "maml_meta_iteration_nav2d": _maml(True, a.repeats, a.quick),
            "fomaml_meta_iteration_nav2d": _maml(False, a.repeats, a.quick),
        },
    }
