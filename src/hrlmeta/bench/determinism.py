"""Benchmark ``determinism``: which numerical-kernel settings change the results, and what pinning costs.

A second CPU model cannot be borrowed, but what differs between CPU models can be emulated: the kernels
each library would pick there. Each *setting* below is one process environment; the bench runs
``hrlmeta golden --json`` (the golden runs and the per-operation probe, :mod:`hrlmeta.golden`,
:mod:`hrlmeta.golden_probe`) in a fresh process under it and groups the settings by the resulting hashes.

- ``pinned:*``: the pins (:data:`hrlmeta.numerics.PINNED`) on this machine and on emulated CPUs
  (instruction caps the pins do not override: MKL's ``MKL_ENABLE_INSTRUCTIONS``).
- ``old_pins``: the pins before MKL's COMPATIBLE branch (``MKL_CBWR=AVX2``, honoured on Intel CPUs only).
- ``portable_sse``: every library on its SSE path (ATen ``default``, MKL ``COMPATIBLE``, oneDNN SSE4.1,
  numpy x86-64-v2).
- ``unpinned:*`` (``HRLMETA_PIN_NUMERICS=0``): this machine's own choice (``native``) and what another CPU
  would pick (``ATEN_CPU_CAPABILITY``, ``MKL_ENABLE_INSTRUCTIONS``, ``MKL_CBWR``, ``OPENBLAS_CORETYPE``,
  ``NPY_ENABLE_CPU_FEATURES``, ``NUMBA_CPU_NAME``), one library at a time.

``--ops``: only the per-operation probe, in a fresh process per setting: which operations each setting
changes (vs ``pinned:native``), and whether ``pinned:native`` equals ``tests/golden/ops.json``.

Cost (``--cost``): CPU seconds of each torch golden run (every torch experiment at its default network
sizes, :func:`hrlmeta.golden.golden_runs`) and of the ``maml`` / ``rl2`` bench workloads, measured in child
processes under each variant, alternated (A B C A B C ...), medians; ratios variant / ``old_pins``.

``python -m hrlmeta.bench determinism [--ops] [--settings ...] [--overlay ...] [--cost] [--cost-only]
[--variants ...] [--repeats R] [--rounds N]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from ..numerics import PINNED

_UNPINNED = {"HRLMETA_PIN_NUMERICS": "0"}
#: the pins before this change: MKL's AVX2 branch is honoured on Intel CPUs only (elsewhere MKL runs AUTO)
OLD_PINS = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2",
            "DNNL_MAX_CPU_ISA": "AVX2", "NPY_ENABLE_CPU_FEATURES": "X86_V3"}
#: every library on its SSE code path
PORTABLE_SSE = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41",
                "DNNL_MAX_CPU_ISA": "SSE41", "NPY_ENABLE_CPU_FEATURES": "X86_V2"}
SETTINGS: dict[str, dict[str, str]] = {
    "pinned:native": {},
    "pinned:mkl_avx2_cpu": {"MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "pinned:mkl_sse42_cpu": {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
    "old_pins": {**_UNPINNED, **OLD_PINS},
    "portable_sse": {**_UNPINNED, **PORTABLE_SSE},
    "unpinned:native": {},
    "unpinned:aten_default": {"ATEN_CPU_CAPABILITY": "default"},
    "unpinned:mkl_avx2": {"MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "unpinned:mkl_cbwr_compatible": {"MKL_CBWR": "COMPATIBLE"},
    "unpinned:mkl_cbwr_avx2": {"MKL_CBWR": "AVX2"},
    "unpinned:openblas_sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "unpinned:onednn_avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "unpinned:numpy_baseline": {"NPY_ENABLE_CPU_FEATURES": "X86_V2"},
    "unpinned:numba_generic": {"NUMBA_CPU_NAME": "generic"},
}

_CLEAR = tuple(PINNED) + tuple(OLD_PINS) + ("MKL_ENABLE_INSTRUCTIONS", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES",
                                            "HRLMETA_PIN_NUMERICS")


def _env(name: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CLEAR}
    if name.startswith("unpinned:"):
        env.update(_UNPINNED)
    env.update(extra)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    return env


def _run_json(cmd: list[str], env: dict[str, str]) -> dict:
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def hash_matrix(names=None, overlays=(), ops_only: bool = False) -> dict:
    """Golden-run and operation hashes under each setting; what differs from ``pinned:native``."""
    from .. import golden, golden_probe

    names = list(SETTINGS) if names is None else names
    if "pinned:native" not in names:
        names = ["pinned:native", *names]
    cmd = [sys.executable, "-m", "hrlmeta", "golden", "--json"] + (["--ops-only"] if ops_only else []) \
        + (["--configfile", *overlays] if overlays else [])
    res = {n: _run_json(cmd, _env(n, SETTINGS[n])) for n in names}
    base = res["pinned:native"]
    out = {"ops_differ_from_pinned": {n: sorted(k for k in r["ops"] if r["ops"][k] != base["ops"][k])
                                      for n, r in res.items()},
           "runs_differ_from_pinned": {n: sorted(k for k in r["golden"] if r["golden"][k] != base["golden"][k])
                                       for n, r in res.items()},
           "hashes_short": {n: {k: h[:12] for k, h in r["golden"].items()} for n, r in res.items()},
           "hashes": {n: r["golden"] for n, r in res.items()}}
    if golden.OPS_FILE.exists():
        out["pinned_ops_vs_committed"] = golden_probe.compare(base["ops"], golden.load_ops())
    if golden.HASHES.exists() and not ops_only and not overlays:
        out["pinned_runs_vs_committed"] = golden.compare(base["golden"], golden.load())
    return out


_COST_CHILD = r"""
import json, sys, time
import hrlmeta
import torch
from hrlmeta import golden
from hrlmeta.bench.maml import time_variants
from hrlmeta.algos import maml as M, rl2
from hrlmeta.envs.nav2d import Nav2D
from hrlmeta.config import load_config, experiment_params
from hrlmeta.experiments import REGISTRY
from hrlmeta.pipeline import run_seeds
from hrlmeta.numerics import configure_torch
configure_torch(1)
reps, runs = int(sys.argv[1]), json.loads(sys.argv[2])
out = {"capability": torch.backends.cpu.get_cpu_capability()}
cfg = golden.golden_config(REGISTRY)
for exp, algo in runs:  # CPU seconds of one golden run (default network sizes), best of reps
    params = experiment_params(cfg, exp)
    ts = []
    for _ in range(reps):
        t = time.process_time()
        run_seeds(REGISTRY, exp, algo, [0], params)
        ts.append(time.process_time() - t)
    out[f"golden:{exp}/{algo}"] = min(ts)
r = time_variants(Nav2D(), M.MamlConfig(hvp_subsample=0.2), 1)
out.update({f"maml_bench:{k}_s_per_iter": v for k, v in r["s_per_meta_iter"].items()})
ppo = experiment_params(load_config(REGISTRY), "bandits_duan")["rl2"]["ppo"]
pc = rl2.PPOConfig.from_params({**ppo, "iterations": 2, "torch_threads": 1})
t = time.process_time()
rl2.train(rl2.BanditMetaEnv(10, 5), pc, seed=0)
out["rl2_bench:bandit_n10_k5_s_per_iter"] = (time.process_time() - t) / 2
print(json.dumps(out))
"""

#: cost variants: (setting prefix, environment)
COST_VARIANTS: dict[str, dict[str, str]] = {
    "old_pins": {**_UNPINNED, **OLD_PINS},
    "pinned": {},
    "portable_sse": {**_UNPINNED, **PORTABLE_SSE},
    "unpinned": dict(_UNPINNED),
}


def _torch_runs() -> list[tuple[str, str]]:
    from .. import golden

    numeric_only = {("bandits_duan", "ucb1"), ("bandits_duan", "thompson"), ("tabular_mdp_duan", "psrl"),
                    ("fourrooms_sutton", "intra_option_q")}
    return [(e, a) for e, a, _ in golden.golden_runs(REGISTRY) if (e, a) not in numeric_only]


def cost(repeats: int, rounds: int, variants=None, runs=None) -> dict:
    variants = list(COST_VARIANTS) if variants is None else variants
    runs = _torch_runs() if runs is None else runs
    samples: dict[str, list[dict]] = {v: [] for v in variants}
    for _ in range(rounds):  # alternate the variants: machine load drifts over minutes
        for v in variants:
            env = _env("pinned:" if v == "pinned" else "unpinned:", COST_VARIANTS[v])
            samples[v].append(_run_json([sys.executable, "-c", _COST_CHILD, str(repeats), json.dumps(runs)], env))
    keys = [k for k in samples[variants[0]][0] if k != "capability"]
    med = {v: {k: statistics.median(s[k] for s in samples[v]) for k in keys} for v in variants}
    ref = "old_pins" if "old_pins" in variants else variants[0]
    ratios = {v: {k: round(med[v][k] / med[ref][k], 3) for k in keys} for v in variants if v != ref}
    return {"cpu_s": {v: {k: round(x, 3) for k, x in m.items()} for v, m in med.items()},
            f"ratio_vs_{ref}": ratios,
            "capability": {v: samples[v][0]["capability"] for v in variants},
            "rounds": rounds, "repeats": repeats}


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench determinism")
    ap.add_argument("--ops", action="store_true", help="only the per-operation probe under each setting")
    ap.add_argument("--cost", action="store_true", help="also measure the cost of the pins")
    ap.add_argument("--cost-only", action="store_true")
    ap.add_argument("--settings", nargs="*", default=None, help=f"subset of {list(SETTINGS)}")
    ap.add_argument("--variants", nargs="*", default=None, help=f"cost variants, subset of {list(COST_VARIANTS)}")
    ap.add_argument("--overlay", nargs="*", default=[], help="config overlays on the golden runs' own")
    ap.add_argument("--repeats", type=int, default=1, help="cost: timed trainings per golden run (best of)")
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args(argv)
    bad = [n for n in (a.settings or []) if n not in SETTINGS]
    bad += [v for v in (a.variants or []) if v not in COST_VARIANTS]
    if bad:
        raise SystemExit(f"unknown setting / variant {bad}; settings: {list(SETTINGS)}, "
                         f"variants: {list(COST_VARIANTS)}")
    out: dict = {"pinned": PINNED}
    if not a.cost_only:
        out["hash_matrix"] = hash_matrix(a.settings, a.overlay, ops_only=a.ops)
        out["overlay"] = a.overlay
        for line in out["hash_matrix"].get("pinned_ops_vs_committed", []):
            print("differs from tests/golden/ops.json:" + line, file=sys.stderr)
    if a.cost or a.cost_only:
        out["cost"] = cost(a.repeats, a.rounds, a.variants)
    return out
