"""``python -m hrlmeta.bench maml``: seconds per meta-iteration of MAML (second order) and FOMAML (first
order) with the TRPO meta-optimiser, measured in the same process, interleaved, on one core by default.

One meta-iteration = sample the meta-batch (tasks x trajectories x horizon, batched), one inner policy-
gradient step per task, sample the post-adaptation trajectories, one TRPO step (meta-gradient, conjugate
gradient on KL Hessian-vector products through the inner update, line search). Timings are medians over
``--repeats`` iterations after one warm-up iteration; MAML and FOMAML start from the same parameters and
random streams.

Peak memory: on CUDA, ``torch.cuda.max_memory_allocated`` around one meta-iteration. On CPU, each
measurement runs in a fresh subprocess (``multiprocessing`` spawn) and reports the growth of the process's
peak resident set size (``VmHWM`` of /proc/self/status; ``ru_maxrss`` elsewhere) over one
meta-iteration, relative to the peak after building the inputs (so the interpreter and torch themselves
are excluded).

Also measured: a sweep of hidden widths (seconds per iteration and the MAML/FOMAML ratio) and the
chapter's configuration (10 tasks x 1 trajectory x 50 steps, 64 units) run through the same batched code.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from ..algos import maml as M
from ..algos.maml import time_variants
from ..envs.nav2d import Nav2D


def _peak_rss_kib() -> float:
    """The process's own peak resident set size in KiB: ``VmHWM`` from /proc/self/status (reset at exec),
    else ``ru_maxrss`` (which a spawned child may inherit from its parent's high-water mark)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    import resource

    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _peak_child(args):
    """Child process: peak RSS growth (MB) of one meta-iteration."""
    env_kw, cfg_kw, second_order, threads = args
    torch.set_num_threads(threads)
    env, cfg = Nav2D(**env_kw), M.MamlConfig(**cfg_kw)
    gen = torch.Generator().manual_seed(0)
    theta = M.init_policy(env.obs_dim, env.act_dim, cfg.hidden, gen, cfg.init_log_std)
    before = _peak_rss_kib()
    M.meta_iteration(theta, env, cfg, gen, adapt_steps=1, second_order=second_order)
    return (_peak_rss_kib() - before) / 1024.0


def peak_memory_mb(env: Nav2D, cfg: M.MamlConfig, device: str, threads: int) -> dict:
    from dataclasses import asdict

    out = {}
    if device == "cuda":
        gen = torch.Generator(device=device).manual_seed(0)
        theta = M.init_policy(env.obs_dim, env.act_dim, cfg.hidden, gen, cfg.init_log_std, device=device)
        for name, so in (("maml", True), ("fomaml", False)):
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            M.meta_iteration(theta, env, cfg, gen, adapt_steps=1, second_order=so)
            torch.cuda.synchronize()
            out[name] = (torch.cuda.max_memory_allocated() - base) / 2**20
        out["method"] = "torch.cuda.max_memory_allocated growth over one meta-iteration"
        return out
    import multiprocessing as mp

    env_kw = {k: v for k, v in asdict(env).items() if k not in ("obs_dim", "act_dim")}
    ctx = mp.get_context("spawn")
    for name, so in (("maml", True), ("fomaml", False)):
        with ctx.Pool(1) as pool:
            out[name] = pool.apply(_peak_child, ((env_kw, asdict(cfg), so, threads),))
    out["method"] = "peak RSS (VmHWM) growth over one meta-iteration in a fresh spawned process"
    return out


def listing_outer_loop_s(repeats: int, seed: int = 0) -> float:
    """Median seconds of one ``outer_loop`` of the chapter's listing as written (10 tasks, per-step loop)."""
    import numpy as np

    from ..algos import listing_maml as S

    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    maml = S.MAML(S.make_policy(seed, gen))
    times = []
    with torch.random.fork_rng(devices=[]):
        for rep in range(repeats + 1):
            batch = [S.Navigation2DEnv.sample_task(rng) for _ in range(10)]
            t0 = time.perf_counter()
            try:
                maml.outer_loop(batch)
            except ValueError:  # the listing's NaN on one-step trajectories: not timed, start afresh
                maml = S.MAML(S.make_policy(seed + rep + 1, gen))
                continue
            if rep > 0:
                times.append(time.perf_counter() - t0)
    return statistics.median(times) if times else float("nan")


def against_baseline(env: Nav2D, cfg: M.MamlConfig, repeats: int, device: str = "cpu") -> dict:
    """Seconds per meta-iteration of MAML and FOMAML with today's code and with
    :data:`hrlmeta.bench._baseline.BASELINE`'s ``algos/maml.py`` imported beside it, the calls alternated in this
    process (same parameters, same random streams): medians, the ratio then / today, and whether both took the
    same step (same new parameters)."""
    from ._baseline import BASELINE, BaselineUnavailable, alternated, load

    try:
        old = load("algos/maml.py", BASELINE)
    except BaselineUnavailable as e:
        return {"unavailable": str(e)}
    from dataclasses import asdict

    old_cfg = old.MamlConfig(**{k: v for k, v in asdict(cfg).items() if k in old.MamlConfig.__dataclass_fields__})
    theta = M.init_policy(env.obs_dim, env.act_dim, cfg.hidden, torch.Generator(device=device).manual_seed(0),
                          cfg.init_log_std, device=device)
    out = {"method": f"src/hrlmeta/algos/maml.py at {BASELINE} imported beside today's, calls alternated in one "
                     "process, medians", "s_per_meta_iter": {}, "speedup": {}, "same_step": {}}
    for name, so in (("maml", True), ("fomaml", False)):
        new_theta = {}

        def run(mod, c, label, so=so):
            gen = torch.Generator(device=device).manual_seed(1)
            new_theta[label] = mod.meta_iteration(theta, env, c, gen, adapt_steps=1, second_order=so)[0]

        t = alternated({"today": lambda: run(M, cfg, "today"), BASELINE: lambda: run(old, old_cfg, BASELINE)},
                       repeats=repeats)
        out["s_per_meta_iter"][name] = {k: round(v, 4) for k, v in t.items()}
        out["speedup"][name] = round(t[BASELINE] / t["today"], 3)
        out["same_step"][name] = all(torch.equal(new_theta["today"][k], new_theta[BASELINE][k]) for k in theta)
    return out


def main(argv: list[str]) -> dict:
    p = argparse.ArgumentParser(prog="python -m hrlmeta.bench maml", description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--widths", type=int, nargs="*", default=[64, 128, 256, 512])
    p.add_argument("--width-repeats", type=int, default=1)
    p.add_argument("--hvp-subsample", type=float, default=0.2,
                   help="fraction of trajectories for the KL curvature (config.yaml default 0.2)")
    p.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    a = p.parse_args(argv)
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda requested but torch.cuda.is_available() is False")
    torch.set_num_threads(a.threads)
    env = Nav2D()
    kw = {"hvp_subsample": a.hvp_subsample}
    cfg = M.MamlConfig(**kw)
    if a.quick:
        env = Nav2D(horizon=20)
        cfg = M.MamlConfig(hidden=(16, 16), n_tasks=4, n_traj=4, **kw)
        a.widths, a.repeats, a.width_repeats = [8, 16], 1, 1
    main_res = time_variants(env, cfg, a.repeats, device=a.device)
    full = time_variants(env, M.MamlConfig(**{**cfg.__dict__, "hvp_subsample": 1.0}), max(1, a.repeats // 2),
                         device=a.device)
    sweep = []
    for w in a.widths:
        c = M.MamlConfig(**{**cfg.__dict__, "hidden": (w, w)})
        r = time_variants(env, c, a.width_repeats, device=a.device)
        sweep.append({"width": w, **r["s_per_meta_iter"], "ratio": r["ratio"]})
    # the listing's shape (--quick: at tiny sizes)
    chapter_env = Nav2D(goal_low=-10, goal_high=10, action_bound=1e9, action_scale=0.5,
                        horizon=20 if a.quick else 50, success_tol=0.5 / 2**0.5)
    chapter_cfg = M.MamlConfig(**{**cfg.__dict__, "hidden": cfg.hidden if a.quick else (64, 64),
                                  "n_tasks": 4 if a.quick else 10, "n_traj": 1})
    chapter = time_variants(chapter_env, chapter_cfg, a.repeats, device=a.device)
    baseline = against_baseline(env, cfg, a.repeats, a.device)
    return {
        "vs_3a2a998": baseline,
        "config": {
            "n_tasks": cfg.n_tasks, "n_traj": cfg.n_traj, "horizon": env.horizon, "hidden": list(cfg.hidden),
            "inner_steps": 1, "cg_iters": cfg.cg_iters, "hvp_subsample": cfg.hvp_subsample,
            "threads": a.threads, "repeats": a.repeats,
        },
        "s_per_meta_iter": main_res["s_per_meta_iter"],
        "ratio_maml_over_fomaml": main_res["ratio"],
        "s_per_meta_iter_full_curvature": {**full["s_per_meta_iter"], "ratio": full["ratio"]},
        "peak_mem_mb": peak_memory_mb(env, cfg, a.device, a.threads),
        "device": a.device,
        "width_sweep": sweep,
        "chapter_config": {
            "note": "10 tasks x 1 trajectory x 50 steps, 64-unit ReLU MLP, batched TRPO code (not the "
                    "listing's per-step loop); env approximated by an unclipped 0.5-scaled point",
            "s_per_meta_iter": chapter["s_per_meta_iter"],
            "ratio": chapter["ratio"],
            "listing_outer_loop_s": listing_outer_loop_s(a.repeats),
        },
    }
