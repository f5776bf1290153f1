"""Benchmark ``batched``: seeds trained as one batch vs the same seeds one after another.

For each learner and each batch size S, the same work -- S seeds, each trained for the same short budget at
the default network sizes of ``config/config.yaml`` -- is run twice in the same process, interleaved over
``--repeats`` rounds: as S separate runs in a loop (each a batch of one) and as one batch of S. Reported:
``updates_per_s_per_seed``, the gradient updates that all S seeds together take per second of wall time
(seed-updates per second: one batched step of S seeds counts S), for both (medians over the rounds, after
one warm-up round), and their ratio (``speedup``, batched over loop). torch runs on one thread.

Learners (:data:`LEARNERS`; each entry ``name -> (work, device_ok)`` where ``work(seeds, device)`` trains
``seeds`` as one batch and returns the gradient updates each seed took):

- ``sac``: the DIAYN agent of ``pointmass_diayn`` (twin-critic SAC + discriminator, one update per 4 env
  steps after ``min_pool`` transitions), :class:`hrlmeta.algos.diayn.DiaynSeeds`.
- ``dqn``: the neural h-DQN of ``chain_hdqn`` (controller + meta-controller DQNs, one minibatch step per
  environment step), :func:`hrlmeta.algos.hdqn.train_seeds`.
- ``td3``, ``hiro_td3``: the TD3 worker of ``pointmaze_hiro`` (flat) and HIRO's two TD3 levels
  (:mod:`hrlmeta.bench.batched_td3`).

``python -m hrlmeta.bench batched [--learners sac,dqn] [--sizes 1,4,8,16] [--repeats 3] [--device cpu]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import lru_cache

import torch

SIZES = (1, 4, 8, 16)


def _td3_work(seeds, device):
    from .batched_td3 import td3_work

    return td3_work(seeds, device)


def _hiro_work(seeds, device):
    from .batched_td3 import hiro_work

    return hiro_work(seeds, device)


@lru_cache(maxsize=None)
def _params(experiment: str) -> dict:
    from ..config import experiment_params, load_config
    from ..experiments import REGISTRY

    return experiment_params(load_config(REGISTRY), experiment)


def _sac(seeds: list[int], device: str) -> float:
    from ..algos import diayn as D
    from ..experiments.pointmass_diayn import analysis as TA
    from ..experiments.pointmass_diayn import training as E

    params = _params("pointmass_diayn")
    env = TA.make_env(params, "open")
    cfg = E.make_config(params, "diayn")
    steps = cfg.min_pool + 1000  # the warm-up collection, then 1000 env steps with updates
    cfg.buffer_size = steps
    agent = D.DiaynSeeds(cfg, env, [torch.Generator().manual_seed(s) for s in seeds])
    agent.train(steps)
    return float(agent.updates)


def _dqn(seeds: list[int], device: str) -> float:
    from ..algos import hdqn
    from ..experiments.chain_hdqn import training as E

    cfg = E._hdqn_config(_params("chain_hdqn"))
    from dataclasses import replace

    cfg = replace(cfg, n_episodes=150)  # ~1000 env steps (one gradient step each) per seed early in training
    res = hdqn.train_seeds(cfg, seeds)
    return float(sum(int(r["steps"].sum()) - cfg.batch_size + 1 for r in res)) / len(seeds)


#: learner -> (work(seeds, device) -> gradient updates per seed, devices it runs on)
LEARNERS: dict = {
    "sac": (_sac, ("cpu",)),
    "dqn": (_dqn, ("cpu",)),
    "td3": (lambda seeds, device: _td3_work(seeds, device), ("cpu",)),
    "hiro_td3": (lambda seeds, device: _hiro_work(seeds, device), ("cpu",)),
}


def _csv(text: str, cast=str) -> list:
    return [cast(x) for x in text.split(",") if x.strip()]


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench batched")
    ap.add_argument("--learners", default=",".join(LEARNERS), help=f"comma-separated subset of {list(LEARNERS)}")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated batch sizes S")
    ap.add_argument("--repeats", type=int, default=3, help="timed rounds (after one warm-up round)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = ap.parse_args(argv)
    learners, sizes = _csv(args.learners), _csv(args.sizes, int)
    bad = [x for x in learners if x not in LEARNERS]
    if bad:
        raise SystemExit(f"--learners: unknown learner(s) {bad}; known: {list(LEARNERS)}")
    if any(s < 1 for s in sizes):
        raise SystemExit(f"--sizes: batch sizes must be >= 1, got {sizes}")
    if args.repeats < 1:
        raise SystemExit(f"--repeats: must be >= 1, got {args.repeats}")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch.cuda.is_available() is False")
    from ..numerics import configure_torch

    configure_torch(1)
    rates: dict = {}
    speedup: dict = {}
    for name in learners:
        work, devices = LEARNERS[name]
        if args.device not in devices:
            print(f"{name}: runs on {devices} only; skipped on {args.device}")
            continue
        rates[name], speedup[name] = {}, {}
        for S in sizes:
            seeds = list(range(S))
            loop_t, batch_t = [], []
            n_loop = n_batch = 0.0
            for rnd in range(args.repeats + 1):  # round 0 is the warm-up
                order = ("loop", "batched") if rnd % 2 == 0 else ("batched", "loop")
                for mode in order:
                    t0 = time.perf_counter()
                    if mode == "loop":
                        n = sum(work([s], args.device) for s in seeds)
                    else:
                        n = work(seeds, args.device) * S
                    dt = time.perf_counter() - t0
                    if rnd:
                        (loop_t if mode == "loop" else batch_t).append(dt)
                        if mode == "loop":
                            n_loop = n
                        else:
                            n_batch = n
            loop = n_loop / statistics.median(loop_t)
            batched = n_batch / statistics.median(batch_t)
            rates[name][str(S)] = {"loop": loop, "batched": batched}
            speedup[name][str(S)] = batched / loop
            print(f"{name:>6} S={S:>2}: {loop:9.1f} seed-updates/s in a loop, {batched:9.1f} as one batch "
                  f"-> {batched / loop:5.2f}x", flush=True)
    return {"device": args.device, "threads": torch.get_num_threads(), "updates_per_s_per_seed": rates,
            "speedup": speedup}
