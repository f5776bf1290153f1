"""What a configuration will cost, before anything runs: jobs and CPU-hours per experiment.

The estimate is measured, not guessed. ``config/costs.yaml`` holds, per experiment and algorithm, the CPU
seconds one *cost unit* took in a real run (``hrlmeta plan --calibrate results`` reads the CPU seconds each
seed's training took from the training jobs' timing files, ``results/benchmarks/train/{experiment}/{algo}/
{chunk}.json``, and divides them by the units it trained). An experiment says what a unit is in its
``experiment.yaml`` (``cost``; e.g. environment steps or
episodes x goals of one seed); an experiment without it counts one unit per seed. The estimate for any
config is then ``seeds x units(params) x measured CPU s per unit``: a per-unit rate taken at one scale
and applied at another, so start-up costs measured at a small scale are spread over more units at a larger
one (the estimate errs on the high side).

The same numbers size the Slurm requests: each training rule asks for ``runtime`` minutes from
:func:`job_minutes` (estimate x safety factor) and ``mem_mb`` from :func:`job_mem_mb`: the largest peak
resident memory measured for that experiment and algorithm (the timing file's ``peak_rss_mb``, else the
``max_rss`` of Snakemake's benchmark file of the same job) x :data:`MEM_SAFETY`. Memory is measured at the
calibrating run's scale; a scale with larger buffers or batches needs its own calibration (``hrlmeta plan
--calibrate`` on a run of it), and where none exists the request is :data:`UNMEASURED_MEM_MB`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from .config import ROOT, enabled_experiments, load_yaml, seeds

COSTS = ROOT / "config" / "costs.yaml"
#: a training job asks Slurm for this many times its estimated run time (slow nodes, contention)
SAFETY = 3.0
#: requested minutes for a job whose experiment/algorithm has never been measured
UNMEASURED_MINUTES = 120
#: a training job asks for this many times its measured peak resident memory, at least MIN_MEM_MB
MEM_SAFETY = 1.5
MIN_MEM_MB = 1000
#: requested memory (MiB) for a job whose experiment/algorithm has no measured peak
UNMEASURED_MEM_MB = 4000
#: CPU seconds of one training job's process start-up (Python, numpy/numba/torch imports, JIT cache
#: loads): `python -c "import hrlmeta.cli, torch, numba, pandas"` took 1.8 CPU-s on 2-core x86-64; 3 with JIT cache loads
STARTUP_CPU_S = 3.0
#: jobs outside training: per experiment its table and (if it draws any) its figures job; then
#: claims, the claims' specification-curve figures and the report
EXTRA_JOBS = 3


def units(experiment: str, algo: str, params: dict, registry, batch: int = 1) -> float:
    """Cost units of one seed of ``algo`` trained in a job of ``batch`` seeds (the ``cost`` of the
    experiment's ``experiment.yaml``; 1 where it has none). Imports no experiment code."""
    return registry.cost_units(experiment, algo, params, batch)


def load_costs(path: str | os.PathLike | None = None) -> dict:
    path = Path(path or COSTS)
    if not path.exists():
        return {"experiments": {}}
    doc = load_yaml(path) or {}
    doc.setdefault("experiments", {})
    return doc


def seed_chunks(cfg: dict, experiment: str) -> list[list[int]]:
    s = seeds(cfg, experiment)
    k = int(cfg["experiments"][experiment].get("seeds_per_job", 1))
    return [s[i : i + k] for i in range(0, len(s), k)]


def rate(costs: dict, experiment: str, algo: str, registry) -> float | None:
    """CPU seconds per cost unit of ``algo``: measured (config/costs.yaml), else the experiment's own estimate
    (``cost.cpu_s_per_unit`` of its experiment.yaml: one number or one per algorithm); None where neither."""
    measured = costs["experiments"].get(experiment, {}).get("cpu_s_per_unit", {}).get(algo)
    if measured is not None:
        return float(measured)
    own = (registry.describe(experiment).get("cost") or {}).get("cpu_s_per_unit")
    if isinstance(own, dict):
        own = own.get(algo)
    return None if own is None else float(own)


def cpu_seconds(cfg: dict, experiment: str, algo: str, n_seeds: int, costs: dict, registry) -> float | None:
    """Estimated CPU seconds of one training job of ``n_seeds`` seeds of one algorithm (trained together,
    as one batch where the experiment batches); None where never measured nor estimated (:func:`rate`)."""
    rate_ = rate(costs, experiment, algo, registry)
    if rate_ is None:
        return None
    params = cfg["experiments"][experiment].get("params", {})
    return n_seeds * units(experiment, algo, params, registry, batch=max(1, n_seeds)) * rate_


def experiment_cpu_seconds(cfg: dict, experiment: str, algo: str, costs: dict, registry) -> float | None:
    """All seeds of one algorithm (job by job, each chunk of seeds at its own batch size), including each
    job's start-up."""
    chunks = seed_chunks(cfg, experiment)
    per_job = [cpu_seconds(cfg, experiment, algo, len(c), costs, registry) for c in chunks]
    if any(c is None for c in per_job):
        return None
    return sum(per_job) + STARTUP_CPU_S * len(chunks)


def needed_minutes(cfg: dict, experiment: str, algo: str, n_seeds: int, costs: dict | None = None, *,
                   registry) -> int:
    """Minutes one training job needs in all: estimate x SAFETY, at least 5 (UNMEASURED_MINUTES if never
    measured)."""
    costs = load_costs() if costs is None else costs
    cpu = cpu_seconds(cfg, experiment, algo, n_seeds, costs, registry)
    if cpu is None:
        return UNMEASURED_MINUTES
    threads = int(cfg["experiments"][experiment].get("threads", 1))
    return max(5, math.ceil(SAFETY * (cpu + STARTUP_CPU_S) / threads / 60))


def max_job_minutes(cfg: dict) -> int | None:
    """The config's bound on any job's requested run time (``training.max_job_hours``), in minutes."""
    h = (cfg.get("training") or {}).get("max_job_hours")
    return None if h is None else max(1, int(60 * float(h)))


def job_minutes(cfg: dict, experiment: str, algo: str, n_seeds: int, costs: dict | None = None, *,
                registry) -> int:
    """Slurm ``runtime`` (minutes) for one training job (one segment of it): what it needs, bounded by
    ``training.max_job_hours``."""
    need = needed_minutes(cfg, experiment, algo, n_seeds, costs, registry=registry)
    cap = max_job_minutes(cfg)
    return need if cap is None else min(need, cap)


def job_segments(cfg: dict, experiment: str, algo: str, n_seeds: int, costs: dict | None = None, *,
                 registry) -> int:
    """Segments one training job runs in: 1, or ceil(needed / max_job_hours) for a job that needs longer
    (each segment resumes from the previous one's checkpoint; only ``resumable`` experiments can)."""
    cap = max_job_minutes(cfg)
    if cap is None:
        return 1
    return max(1, math.ceil(needed_minutes(cfg, experiment, algo, n_seeds, costs, registry=registry) / cap))


def train_retries(cfg: dict, costs: dict | None = None, *, registry) -> int | None:
    """Retries the training rule allows under ``training.max_job_hours``: one for a failed node or
    pre-emption, plus one per further segment of the longest resumable job. None without a bound (Snakemake
    then applies its own ``--retries``, e.g. the Slurm profile's)."""
    if max_job_minutes(cfg) is None:
        return None
    extra = 0
    for exp in enabled_experiments(cfg, registry):
        if not registry.describe(exp).get("resumable"):
            continue
        for algo in cfg["experiments"][exp]["algos"]:
            for chunk in seed_chunks(cfg, exp):
                extra = max(extra, job_segments(cfg, exp, algo, len(chunk), costs, registry=registry) - 1)
    return 1 + extra


def job_mem_mb(experiment: str, algo: str, costs: dict | None = None) -> int:
    """Slurm ``mem_mb`` for one training job: measured peak RSS x MEM_SAFETY (at least MIN_MEM_MB, rounded
    up to 100 MiB), or UNMEASURED_MEM_MB where never measured."""
    costs = load_costs() if costs is None else costs
    peak = costs["experiments"].get(experiment, {}).get("peak_rss_mb", {}).get(algo)
    if peak is None:
        return UNMEASURED_MEM_MB
    return max(MIN_MEM_MB, 100 * math.ceil(MEM_SAFETY * float(peak) / 100))


def _benchmark_rss(timing_file: Path) -> float | None:
    """max_rss (MB) of Snakemake's benchmark file beside a timing file (same job), None if absent."""
    tsv = timing_file.with_suffix(".tsv")
    try:
        head, row = tsv.read_text().splitlines()[:2]
        return float(dict(zip(head.split("\t"), row.split("\t")))["max_rss"])
    except (OSError, ValueError, KeyError):
        return None


def figure_names(experiment: str, registry) -> tuple[str, ...]:
    """The experiment's figures, from its description (no experiment code is imported)."""
    return tuple(registry.describe(experiment)["figures"])


def experiment_jobs(cfg: dict, experiment: str, registry) -> int:
    """Snakemake jobs of one experiment: a training job per algorithm and chunk of seeds, its table and
    (if it draws any) its figures job."""
    block = cfg["experiments"][experiment]
    figures = 1 if figure_names(experiment, registry) else 0
    return len(block["algos"]) * len(seed_chunks(cfg, experiment)) + 1 + figures


def plan(cfg: dict, costs: dict | None = None, *, registry) -> dict:
    """{"plan": {EXPERIMENT: {"jobs", "cpu_hours", "unmeasured", "per_algo", "mem_mb" (the largest training
    job's request), "mem_unmeasured"}}, "total_cpu_hours", "total_jobs"}"""
    costs = load_costs() if costs is None else costs
    out, total_h, total_jobs = {}, 0.0, EXTRA_JOBS
    for exp in enabled_experiments(cfg, registry):
        block = cfg["experiments"][exp]
        per_algo, unmeasured = {}, []
        for algo in block["algos"]:
            cpu = experiment_cpu_seconds(cfg, exp, algo, costs, registry)
            if cpu is None:
                unmeasured.append(algo)
            else:
                per_algo[algo] = round(cpu / 3600, 4)
        jobs = experiment_jobs(cfg, exp, registry)
        hours = sum(per_algo.values())
        mem = {a: job_mem_mb(exp, a, costs) for a in block["algos"]}
        segs = [job_segments(cfg, exp, a, len(c), costs, registry=registry)
                for a in block["algos"] for c in seed_chunks(cfg, exp)]
        resumable = bool(registry.describe(exp).get("resumable"))
        out[exp] = {"jobs": jobs, "cpu_hours": round(hours, 3), "unmeasured": unmeasured, "per_algo": per_algo,
                    "mem_mb": max(mem.values()) if mem else None,
                    "mem_unmeasured": [a for a in block["algos"]
                                       if a not in costs["experiments"].get(exp, {}).get("peak_rss_mb", {})],
                    "resumable": resumable, "segments": sum(segs), "max_segments": max(segs) if segs else 1,
                    "over_max_job_hours": (not resumable) and any(n > 1 for n in segs)}
        total_h += hours
        total_jobs += jobs
    return {"plan": out, "total_cpu_hours": round(total_h, 3), "total_jobs": total_jobs}


def calibrate(results_dir: str | os.PathLike, cfg: dict, measured_on: str = "", *, registry) -> dict:
    """CPU seconds per cost unit, from the training jobs' timing files under
    ``results_dir/benchmarks/train`` (each seed's CPU time of training, as ``hrlmeta train --timing``
    writes it) of a run made with ``cfg``. Process start-up (imports, JIT cache loads) is not in it:
    :data:`STARTUP_CPU_S` per job."""
    from .pipeline import read_timing

    found: dict = {}
    peaks: dict = {}
    for f in sorted(Path(results_dir, "benchmarks", "train").glob("*/*/*.json")):
        doc = read_timing(f)
        exp, algo = doc["experiment"], doc["algo"]
        block = cfg.get("experiments", {}).get(exp)
        if block is None or algo not in block.get("algos", []):
            continue
        peak = doc.get("peak_rss_mb", _benchmark_rss(f))
        if peak is not None:
            peaks.setdefault(exp, {})[algo] = max(float(peak), peaks.get(exp, {}).get(algo, 0.0))
        for run in doc["runs"]:
            acc = found.setdefault(exp, {}).setdefault(algo, [0.0, 0.0, 0])
            acc[0] += float(run["cpu_s"])
            acc[1] += units(exp, algo, block.get("params", {}), registry, batch=len(doc["runs"]))
            acc[2] += 1
    exps = {}
    for exp, algos in sorted(found.items()):
        exps[exp] = {
            "cpu_s_per_unit": {a: float(f"{c / u:.6g}") for a, (c, u, _) in sorted(algos.items()) if u > 0},
            "seeds_measured": {a: n for a, (_, _, n) in sorted(algos.items())},
        }
        if peaks.get(exp):
            exps[exp]["peak_rss_mb"] = {a: round(v, 1) for a, v in sorted(peaks[exp].items())}
    return {"measured_on": measured_on, "experiments": exps}


def merge_costs(old: dict, new: dict) -> dict:
    """Newly measured experiments/algorithms replace old ones; the rest is kept."""
    out = {"measured_on": new.get("measured_on") or old.get("measured_on", ""), "experiments": {}}
    for exp in sorted(set(old["experiments"]) | set(new["experiments"])):
        o, n = old["experiments"].get(exp, {}), new["experiments"].get(exp, {})
        out["experiments"][exp] = {
            k: {**o.get(k, {}), **n.get(k, {})} for k in ("cpu_s_per_unit", "seeds_measured", "peak_rss_mb")
            if k in o or k in n
        }
        if "marginal_rate" in o and not n:   # rates measured by `bench marginal_rate` stay with their note
            out["experiments"][exp]["marginal_rate"] = o["marginal_rate"]
    return out


def format_plan(result: dict) -> str:
    lines = [f"{'experiment':<24} {'jobs':>6} {'CPU-hours':>10} {'segments':>9} {'mem MiB':>8}  unmeasured algorithms"]
    for exp, r in result["plan"].items():
        seg = f"{r['segments']}" + ("!" if r["over_max_job_hours"] else "")
        lines.append(f"{exp:<24} {r['jobs']:>6} {r['cpu_hours']:>10.3f} {seg:>9} {r['mem_mb'] or '-':>8}  "
                     f"{', '.join(r['unmeasured']) or '-'}")
    lines.append(f"{'total':<24} {result['total_jobs']:>6} {result['total_cpu_hours']:>10.3f}")
    over = [e for e, r in result["plan"].items() if r["over_max_job_hours"]]
    if over:
        lines.append("! jobs longer than training.max_job_hours in experiments whose training cannot resume "
                     f"(they would restart, not resume): {', '.join(over)}")
    return "\n".join(lines)
