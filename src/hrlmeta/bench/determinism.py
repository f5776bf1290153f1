"""Benchmark ``determinism``: which numerical-kernel settings change the results, and what pinning costs.

A second CPU model cannot be borrowed, but what differs between CPU models can be emulated: the kernels
each library would pick there. Each *setting* below is one process environment; the bench runs
``hrlmeta golden --json`` (the golden smoke-scale runs, :mod:`hrlmeta.golden`) in a fresh process under
it and groups the settings by the resulting table hashes.

- ``unpinned:*`` (``HRLMETA_PIN_NUMERICS=0``): this machine's own choice (``native``) and what a CPU without
  AVX-512 / without AVX2 would pick (``ATEN_CPU_CAPABILITY``, ``MKL_ENABLE_INSTRUCTIONS``,
  ``ONEDNN_MAX_CPU_ISA``, ``NPY_ENABLE_CPU_FEATURES``, ``NUMBA_CPU_NAME``), one library at a time.
- ``pinned:*``: the pinned settings (:data:`hrlmeta.pipeline_env.PINNED`) on this machine and on emulated
  older CPUs (instruction caps the pins do not override: MKL's ``MKL_ENABLE_INSTRUCTIONS``).

Cost (``--cost``): seconds per MAML / FOMAML meta-iteration (the ``maml`` bench's configuration) and per
RL^2 PPO iteration (the ``rl2`` bench's three cases), measured in child processes with and without the
pins, alternated (A B A B ...), medians; ratios pinned / unpinned (1.0 = free). Reported per-library
variants (only ATen pinned, only MKL pinned) attribute the cost.

``python -m hrlmeta.bench determinism [--overlay docs/determinism_probe.yaml] [--settings ...] [--cost]
[--cost-only] [--variants ...] [--repeats R] [--rounds N]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from ..pipeline_env import PINNED

_UNPINNED = {"HRLMETA_PIN_NUMERICS": "0"}
SETTINGS: dict[str, dict[str, str]] = {
    "unpinned:native": {},
    "unpinned:aten_avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "unpinned:aten_default": {"ATEN_CPU_CAPABILITY": "default"},
    "unpinned:mkl_avx2": {"MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "unpinned:mkl_cbwr_compatible": {"MKL_CBWR": "COMPATIBLE"},
    "unpinned:mkl_cbwr_avx2": {"MKL_CBWR": "AVX2"},
    "unpinned:onednn_avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "unpinned:numpy_baseline": {"NPY_ENABLE_CPU_FEATURES": "X86_V2"},
    "unpinned:numba_haswell": {"NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": ""},
    "unpinned:numba_generic": {"NUMBA_CPU_NAME": "generic"},
    "pinned:native": {},
    "pinned:mkl_avx2_cpu": {"MKL_ENABLE_INSTRUCTIONS": "AVX2"},
}

_CLEAR = tuple(PINNED) + ("MKL_ENABLE_INSTRUCTIONS", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "HRLMETA_PIN_NUMERICS")


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


def hash_matrix(names=None, overlays=()) -> dict:
    names = list(SETTINGS) if names is None else names
    cmd = [sys.executable, "-m", "hrlmeta", "golden", "--json"] + (["--overlay", *overlays] if overlays else [])
    hashes = {n: _run_json(cmd, _env(n, SETTINGS[n]))["golden"] for n in names}
    runs = sorted(next(iter(hashes.values())))
    ref = {"unpinned": hashes.get("unpinned:native"), "pinned": hashes.get("pinned:native")}
    differs = {}
    for n, h in hashes.items():
        base = ref[n.split(":")[0]]
        differs[n] = [r for r in runs if base is not None and h[r] != base[r]]
    return {"runs": runs, "differs_from_native": differs,
            "pinned_all_equal": len({json.dumps(h, sort_keys=True) for n, h in hashes.items()
                                     if n.startswith("pinned:")}) == 1,
            "hashes_short": {n: {r: h[r][:12] for r in runs} for n, h in hashes.items()}}


_COST_CHILD = r"""
import json, sys, time, resource
import hrlmeta
from hrlmeta.bench import median_time
from hrlmeta.bench.maml import time_variants
from hrlmeta.algos import maml as M, rl2
from hrlmeta.envs.nav2d import Nav2D
from hrlmeta.config import load_config, experiment_params
from hrlmeta.experiments import REGISTRY
import torch
torch.set_num_threads(1)
reps = int(sys.argv[1])
out = {"capability": torch.backends.cpu.get_cpu_capability()}
r = time_variants(Nav2D(), M.MamlConfig(hvp_subsample=0.2), reps)
out.update({f"maml_s_per_iter_{k}": v for k, v in r["s_per_meta_iter"].items()})
cfg = load_config(REGISTRY)
ppo = {"bandit": experiment_params(cfg, "bandits_duan")["rl2"]["ppo"],
       "mdp": experiment_params(cfg, "tabular_mdp_duan")["rl2"]["ppo"]}
for name, kind, env in (("rl2_bandit_n10_k5", "bandit", rl2.BanditMetaEnv(10, 5)),
                        ("rl2_bandit_n100_k5", "bandit", rl2.BanditMetaEnv(100, 5)),
                        ("rl2_mdp_n10", "mdp", rl2.TabularMDPMetaEnv(10))):
    pc = rl2.PPOConfig.from_params({**ppo[kind], "iterations": 2, "torch_threads": 1})
    out[f"{name}_s_per_iter"] = median_time(lambda: rl2.train(env, pc, seed=0), repeats=reps) / 2
out["cpu_s"] = resource.getrusage(resource.RUSAGE_SELF).ru_utime
print(json.dumps(out))
"""

COST_VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "unpinned": ("unpinned:", {}),
    "pinned": ("pinned:", {}),
    "only_aten_avx2": ("unpinned:", {"ATEN_CPU_CAPABILITY": "avx2"}),
    "only_mkl_cbwr_avx2": ("unpinned:", {"MKL_CBWR": "AVX2"}),
    "portable_sse": ("unpinned:", {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}),
    "only_aten_default": ("unpinned:", {"ATEN_CPU_CAPABILITY": "default"}),
    "only_mkl_cbwr_compatible": ("unpinned:", {"MKL_CBWR": "COMPATIBLE"}),
}


def cost(repeats: int, rounds: int, variants=None) -> dict:
    variants = list(COST_VARIANTS) if variants is None else variants
    samples: dict[str, list[dict]] = {v: [] for v in variants}
    for _ in range(rounds):  # alternate the variants: machine load drifts over minutes
        for v in variants:
            prefix, extra = COST_VARIANTS[v]
            samples[v].append(_run_json([sys.executable, "-c", _COST_CHILD, str(repeats)], _env(prefix, extra)))
    keys = [k for k in samples[variants[0]][0] if k.endswith("_s_per_iter") or k.startswith("maml_s_per_iter")]
    med = {v: {k: statistics.median(s[k] for s in samples[v]) for k in keys} for v in variants}
    ratios = {v: {k: round(med[v][k] / med["unpinned"][k], 3) for k in keys} for v in variants if v != "unpinned"}
    return {"s_per_iter": {v: {k: round(x, 4) for k, x in m.items()} for v, m in med.items()},
            "ratio_vs_unpinned": ratios,
            "capability": {v: samples[v][0]["capability"] for v in variants},
            "rounds": rounds, "repeats": repeats}


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench determinism")
    ap.add_argument("--cost", action="store_true", help="also measure the cost of the pins")
    ap.add_argument("--cost-only", action="store_true")
    ap.add_argument("--settings", nargs="*", default=None, help=f"subset of {list(SETTINGS)}")
    ap.add_argument("--variants", nargs="*", default=None, help=f"cost variants, subset of {list(COST_VARIANTS)}")
    ap.add_argument("--overlay", nargs="*", default=[], help="config overlays on smoke.yaml for the golden runs, "
                    "e.g. docs/determinism_probe.yaml (default-size networks, few iterations)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args(argv)
    out: dict = {"pinned": PINNED}
    if not a.cost_only:
        out["hash_matrix"] = hash_matrix(a.settings, a.overlay)
        out["overlay"] = a.overlay
    if a.cost or a.cost_only:
        out["cost"] = cost(a.repeats, a.rounds, a.variants)
    return out
