"""Benchmark ``checkpoint``: what one checkpoint of a paper-scale HIRO job costs (hrlmeta.checkpoint).

A HIRO agent at ``config/paper.yaml``'s sizes (the released (300, 300) networks of both levels, replay
buffers of 200,000 transitions per level, filled: every page written, as late in a run) for ``--seeds``
seeds, saved and loaded as ``pointmaze_hiro``'s training loop does. Reports the file size, the save and
load wall seconds (medians), and what one save costs against the 30 CPU-minutes between checkpoints of
``training.checkpoint_cpu_minutes``.

``python -m hrlmeta.bench checkpoint [--seeds S] [--repeats R]``
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench checkpoint")
    ap.add_argument("--seeds", type=int, default=1, help="seeds trained as one batch in the job (paper: 1)")
    ap.add_argument("--repeats", type=int, default=3, help="saves and loads timed (median)")
    a = ap.parse_args(argv)

    from .. import checkpoint
    from ..config import experiment_params, load_config
    from ..experiments import REGISTRY

    from ..experiments.pointmaze_hiro import training as E

    params = copy.deepcopy(experiment_params(load_config(REGISTRY, "config/paper.yaml"), "pointmaze_hiro"))
    seeds = list(range(a.seeds))
    agent = E.make_agent("hiro", params, [E._generator("cpu", s, 0) for s in seeds], "cpu")
    for buf in (agent.w_buffer, agent.m_buffer):
        for v in buf.data.values():
            v[...] = np.random.default_rng(0).standard_normal(v.shape, dtype=np.float32)
        buf.size = buf.capacity
    state = {"agent": agent, "rngs": [np.random.default_rng([s, 1]) for s in seeds], "rows": [[] for _ in seeds],
             "steps": 5_000_000, "episode": 10_000, "round": 100}
    saves, loads = [], []
    with tempfile.TemporaryDirectory() as d:
        with checkpoint.job(Path(d), every=1, code="bench"):
            ck = checkpoint.for_run("pointmaze_hiro", "hiro", seeds, params)
            for _ in range(a.repeats):
                t = time.perf_counter()
                ck.save(state, 1)
                saves.append(time.perf_counter() - t)
                t = time.perf_counter()
                assert ck.load() is not None
                loads.append(time.perf_counter() - t)
            size = ck.path.stat().st_size
    save_s = float(np.median(saves))
    return {"seeds": a.seeds, "file_mb": round(size / 2**20, 1), "save_s": round(save_s, 2),
            "load_s": round(float(np.median(loads)), 2),
            "save_share_of_30_cpu_min": round(save_s / 1800, 5), "repeats": a.repeats}
