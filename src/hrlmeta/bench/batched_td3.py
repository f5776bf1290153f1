"""``python -m hrlmeta.bench batched_td3 [--sizes 1 4 8 16] [--updates N] [--repeats R] [--hidden H H]``:
the TD3-family learners of ``pointmaze_hiro`` trained as S separate seeds in a loop against one batch of S
seeds (:mod:`hrlmeta.algos.td3`: a leading seed axis in every network), in the same process, interleaved.

Learners: ``td3`` (one TD3 minibatch update per seed, replay sampling included: the flat agent's and
HIRO's worker's step) and ``hiro`` (HIRO's ``train_step``: one worker update per call and, every ``c``
calls, one manager update with the off-policy relabelling of its minibatch). Buffers are pre-filled with
random transitions; the timed work is learning only, timed as this thread's CPU seconds (medians over
interleaved repeats after a warm-up). ``updates_per_s_per_seed``: minibatch updates per
second per seed (HIRO: worker updates); ``speedup``: batched / loop at the same S.

:func:`measure` is the entry the combined ``batched`` bench calls for its ``td3`` / ``hiro`` rows (same
JSON layout as the contract's ``batched`` bench).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import statistics
import time

SIZES = (1, 4, 8, 16)


def _params(hidden) -> dict:
    from ..config import load_schema, schema_defaults
    from ..experiments import REGISTRY

    given = {"td3": {"hidden": list(hidden), "batch_size": 100, "huber_delta": None, "actor_lr": 1e-3},
             "train": {"n_envs": 8}, "env": {"horizon": 500}, "replay_size": 20_000}
    return schema_defaults(given, load_schema("pointmaze_hiro", REGISTRY))   # the rest: the schema's defaults


def _filled(algo: str, seeds, hidden, device: str = "cpu"):
    """An agent for ``seeds`` (one batch) with every replay filled with 4,000 random transitions per seed."""
    from ..experiments.pointmaze_hiro import training as E

    params = _params(hidden)
    agent = E.make_agent(algo, params, [E._generator(device, s, 0) for s in seeds], device)
    rng = np.random.default_rng(12345)
    S = len(seeds)
    bufs = [agent.buffer] if algo == "td3" else [agent.w_buffer, agent.m_buffer]
    for buf in bufs:
        n = 4000
        buf.add(**{k: rng.uniform(-1, 1, size=(S, n, *v.shape[2:])).astype(np.float32) for k, v in buf.data.items()})
    return agent, [np.random.default_rng([s, 7]) for s in seeds]


def _cpu_time(fn) -> float:
    """CPU seconds of this thread spent in ``fn()`` (single-threaded torch: the work itself, not the waiting
    of a shared machine; ratios of it are what this bench reports)."""
    t0 = time.thread_time()
    fn()
    return time.thread_time() - t0


def _runner(agent, rngs, n: int):
    """``n`` learning steps of ``agent`` (flat TD3: one update per seed; HIRO: one worker update per seed and
    every c-th step one manager update with relabelling)."""
    def run():
        for _ in range(n):
            agent.train_step(rngs)
    return run


def measure(sizes=SIZES, updates: int = 40, repeats: int = 3, hidden=(64, 64), learners=("td3", "hiro"),
            device: str = "cpu") -> dict:
    """{"updates_per_s_per_seed": {LEARNER: {S: {"loop", "batched"}}}, "speedup": {LEARNER: {S: ratio}}}."""
    rates: dict = {}
    speed: dict = {}
    for algo in learners:
        rates[algo], speed[algo] = {}, {}
        for S in sizes:
            seeds = list(range(S))
            loop = [_filled(algo, [s], hidden, device) for s in seeds]
            batch = _filled(algo, seeds, hidden, device)
            loop_runs = [_runner(a, r, updates) for a, r in loop]
            batch_run = _runner(*batch, updates)
            times = {"loop": [], "batched": []}
            [f() for f in loop_runs]  # warm-up
            batch_run()
            for _ in range(repeats):  # interleaved: whatever else runs on the machine hits both alike
                times["loop"].append(_cpu_time(lambda: [f() for f in loop_runs]))
                times["batched"].append(_cpu_time(batch_run))
            t_loop, t_batch = statistics.median(times["loop"]), statistics.median(times["batched"])
            rates[algo][S] = {"loop": updates / t_loop, "batched": updates / t_batch}
            speed[algo][S] = t_loop / t_batch
    return {"updates_per_s_per_seed": rates, "speedup": speed}


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench batched_td3")
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--updates", type=int, default=40, help="updates per seed per timed run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    ap.add_argument("--learners", nargs="+", default=["td3", "hiro"], choices=["td3", "hiro"])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch.cuda.is_available() is False")
    torch.set_num_threads(1)
    out = measure(args.sizes, args.updates, args.repeats, tuple(args.hidden), tuple(args.learners), args.device)
    return {"device": args.device, "threads": torch.get_num_threads(), **out,
            "config": {"hidden": args.hidden, "batch": 100, "updates": args.updates, "repeats": args.repeats}}


def _work(algo: str, seeds: list[int], device: str, steps: int = 200) -> float:
    agent, rngs = _filled(algo, seeds, (64, 64), device)
    run = _runner(agent, rngs, steps)
    run()
    return float(steps)


def td3_work(seeds: list[int], device: str = "cpu") -> float:
    """For ``hrlmeta.bench.batched``'s ``LEARNERS`` (``work(seeds, device) -> updates per seed``): 200 TD3
    updates per seed at the default (64, 64) networks, the seeds as one batch."""
    return _work("td3", seeds, device)


def hiro_work(seeds: list[int], device: str = "cpu") -> float:
    """The same for HIRO's ``train_step`` (worker updates per seed; one manager update with relabelling every c)."""
    return _work("hiro", seeds, device)
