"""Benchmark ``hiro_paper``: the measured CPU cost of paper-scale training of the HIRO family (the released
settings of ``config/paper.yaml``: one environment, one worker update per environment step, (300, 300)
networks, evaluation every 50,000 steps over 50 episodes per goal) extrapolated to the paper's 10M steps,
beside what ``hrlmeta plan --configfile config/paper.yaml`` prices one seed at.

Per algorithm, one seed, one thread, CPU seconds of the process (``time.process_time``), each run with the
paper's parameters except its length and evaluation schedule:

- ``a``: ``S`` steps, evaluated only at the start; ``b``: ``2 S`` steps, evaluated only at the start;
  ``c``: ``2 S`` steps, evaluated every ``S`` steps (two extra evaluation rounds);
- marginal training CPU per environment step ``(b - a) / S`` (the fixed start-up cancels);
  one evaluation round ``(c - b) / 2``;
- extrapolated CPU per seed = marginal x ``total_steps`` + round x (``total_steps / every_steps`` + 1).

The replay memory grows during the run, but an update samples a fixed minibatch, so the per-step cost does
not depend on how full it is; the extrapolation is linear in steps. The higher level updates (and HIRO
relabels) only once its replay holds a minibatch: ``c x batch_size x n_envs`` = 1000 steps at the paper's
settings, so ``S`` must be at least that (checked); shorter runs would leave the manager's cost out.

``python -m hrlmeta.bench hiro_paper [--steps S] [--algos ...]``
"""

from __future__ import annotations

import argparse
import copy
import time


def _cpu(fn) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main(argv: list[str]) -> dict:
    p = argparse.ArgumentParser(prog="python -m hrlmeta.bench hiro_paper", description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=1500, help="S (a multiple of the 500-step episode)")
    p.add_argument("--algos", nargs="*", default=None)
    a = p.parse_args(argv)
    from .. import plan
    from ..config import ROOT, load_config
    from ..experiments import default
    from ..experiments.pointmaze_hiro import training as X
    from ..numerics import configure_torch

    configure_torch(1)
    REGISTRY = default()
    cfg = load_config(REGISTRY, ROOT / "config" / "paper.yaml")
    exp = cfg["experiments"]["pointmaze_hiro"]
    paper = exp["params"]
    costs = plan.load_costs()
    total = int(paper["train"]["total_steps"])
    every = int(paper["eval"]["every_steps"])
    S = int(a.steps)
    warm = int(paper.get("hiro", {}).get("c", 10)) * int(paper["td3"].get("batch_size", 100)) * int(paper["train"]["n_envs"])
    if S < warm:
        raise SystemExit(f"--steps {S}: below {warm} steps the higher level has not yet filled a minibatch, so its "
                         "updates (and HIRO's relabelling) would be missing from the measured interval")
    out = {"steps": S, "paper_total_steps": total, "paper_eval_every": every, "threads": 1, "algos": {}}
    for algo in a.algos or exp["algos"]:
        def run(steps, ev_every):
            q = copy.deepcopy(paper)
            q["train"]["total_steps"] = steps
            q["eval"]["every_steps"] = ev_every
            return _cpu(lambda: X.train(algo, [0], q))
        ca, cb, cc = run(S, 1000 * S), run(2 * S, 1000 * S), run(2 * S, S)
        marginal = (cb - ca) / S
        round_ = max(cc - cb, 0.0) / 2
        extrap = marginal * total + round_ * (total // every + 1)
        priced = plan.cpu_seconds(cfg, "pointmaze_hiro", algo, 1, costs, REGISTRY)
        out["algos"][algo] = {
            "cpu_s": {"S": ca, "2S": cb, "2S_eval_every_S": cc},
            "train_cpu_ms_per_step": 1e3 * marginal, "eval_round_cpu_s": round_,
            "extrapolated_cpu_h_per_seed": extrap / 3600,
            "plan_cpu_h_per_seed": None if priced is None else priced / 3600,
            "plan_over_extrapolation": None if priced is None or extrap <= 0 else priced / extrap,
        }
    return out
