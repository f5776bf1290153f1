"""Golden hashes: short training runs of every torch experiment (and a numpy / numba sample) whose tables
must come out bit for bit the same on every machine the determinism promise covers (docs/determinism.md),
plus a per-operation probe (:mod:`hrlmeta.golden_probe`) that names the kernel when they do not.

``hrlmeta golden`` first hashes the probed operations and compares them with ``tests/golden/ops.json``
(naming every operation that differs), then trains the runs in :data:`RUNS` with the golden parameters
(``config/config.yaml`` + ``config/smoke.yaml`` + the ``golden.params`` of each experiment's experiment.yaml:
each torch experiment at its default network sizes, a few iterations long), hashes each run table with :func:`table_hash` and compares
with ``tests/golden/hashes.json``. ``hrlmeta golden --write`` regenerates both files (one command, after
an intended change of the numbers); ``hrlmeta golden --ops-only`` checks only the operations (seconds).

Canonical hash of a table (:func:`table_hash`): the measured timing columns (``wall_s`` and every column
named ``*_s``) are dropped; the remaining columns are taken in sorted order, rows in the table's order;
each column contributes its name, a type tag and its values as raw bytes: floats as little-endian IEEE
float64, integers as little-endian int64, booleans as one byte, array-valued cells as their dtype, shape
and raw bytes, anything else as UTF-8 text joined by NUL. SHA-256 over all of it. So a hash changes iff
some non-timing value changes in its last bit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .config import ROOT  # noqa: E402  (the project root, found from the current directory)
HASHES = ROOT / "tests" / "golden" / "hashes.json"
OPS_FILE = ROOT / "tests" / "golden" / "ops.json"
#: config overlays of the golden runs, on config/config.yaml (paths relative to the repository root); each
#: experiment's own ``golden.params`` (its experiment.yaml) go on top (:func:`golden_config`)
OVERLAYS: tuple[str, ...] = ("config/smoke.yaml",)
REGENERATE = "hrlmeta golden --write"


def golden_runs(registry) -> tuple[tuple[str, str, int], ...]:
    """(experiment, algo, seed) of every golden run: each experiment's ``golden.runs`` (experiment.yaml), seed 0,
    in report order. Every torch experiment declares the algorithms whose code paths differ (MAML / FOMAML,
    both versions of the chapter's MAML listing, RL^2 on bandits and MDPs, h-DQN, DIAYN, the HIRO family, the
    CartPole meta-learners), a few numpy / numba experiments a sample of theirs."""
    return tuple((exp, algo, 0) for exp in registry.available()
                 for algo in (registry.describe(exp).get("golden") or {}).get("runs", ()))


def golden_config(registry, overlays=OVERLAYS) -> dict:
    """The golden runs' config: config/config.yaml + ``overlays`` + every experiment's ``golden.params``,
    validated (each experiment's params against its schema)."""
    from .config import DEFAULT_CONFIG, deep_merge, load_yaml, validate_config, with_folder_blocks

    cfg = load_yaml(DEFAULT_CONFIG)
    for o in overlays:
        cfg = deep_merge(cfg, load_yaml(ROOT / o))
    own = {exp: {"params": d["golden"]["params"]} for exp in registry.available()
           if (d := registry.describe(exp)).get("golden", {}).get("params")}
    return validate_config(with_folder_blocks(deep_merge(cfg, {"experiments": own}), registry), registry)


DRIFT_HELP = f"""\
The operations / run tables above no longer hash to the committed values (tests/golden/ops.json,
tests/golden/hashes.json).

What it means: the same (algo, seed, params) now gives different numbers. Either
  (a) you changed what is computed (an algorithm, a default in config/config.yaml or config/smoke.yaml,
      the order of random draws, a dtype, an experiment.yaml's golden params): then the change is intended;
      regenerate both files with
          {REGENERATE}
      and commit tests/golden/ together with the change (and re-run the default scale:
      the README's claims table comes from it, see `hrlmeta readme-table`); or
  (b) you changed nothing: the numerical kernels differ from those the hashes were made with, i.e.
      results depend on the machine (CPU vendor or model, library versions); a differing operation
      above names the kernel. Check that
      HRLMETA_PIN_NUMERICS is not set to 0, that hrlmeta is imported before torch/numpy run anything
      (hrlmeta.numerics.PINNED), and that torch/numpy/numba are the pinned versions. Do not
      regenerate in this case: the drift is the bug (it changes default-scale verdicts); report the
      machine (lscpu) and the differing operations (docs/determinism.md lists the machines covered).
"""


def is_measured(column: str) -> bool:
    """Timing columns: measurements of the machine, excluded from hashes and determinism checks."""
    return column == "wall_s" or column.endswith("_s")


def _cell_bytes(v) -> bytes:
    if isinstance(v, (np.ndarray, list, tuple)):
        a = np.ascontiguousarray(np.asarray(v))
        return f"{a.dtype.str}{a.shape}:".encode() + a.tobytes()
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return b""
    return str(v).encode()


def _column_bytes(s: pd.Series) -> tuple[str, bytes]:
    if pd.api.types.is_bool_dtype(s):
        return "b", s.to_numpy(dtype=np.uint8).tobytes()
    if pd.api.types.is_integer_dtype(s):
        return "i", s.to_numpy(dtype="<i8").tobytes()
    if pd.api.types.is_float_dtype(s):
        return "f", s.to_numpy(dtype="<f8").tobytes()
    return "s", b"\0".join(_cell_bytes(v) for v in s)


def table_hash(df: pd.DataFrame) -> str:
    """SHA-256 of the table's non-timing content (see the module docstring)."""
    h = hashlib.sha256()
    h.update(f"rows={len(df)}\n".encode())
    for col in sorted(c for c in df.columns if not is_measured(str(c))):
        tag, data = _column_bytes(df[col])
        h.update(f"{col}:{tag}:{len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()


def run_key(experiment: str, algo: str, seed: int) -> str:
    return f"{experiment}/{algo}/seed{seed}"


def compute(runs=None, overlays=OVERLAYS, *, registry) -> dict[str, str]:
    """Train every run (``runs``, default: :func:`golden_runs`; golden parameters) and hash its table; the tables
    pass through the same code path as the workflow's (``train``), not through parquet."""
    from .config import experiment_params
    from .pipeline import keyed, run_seeds

    cfg = golden_config(registry, overlays)
    out = {}
    for exp, algo, seed in (golden_runs(registry) if runs is None else runs):
        registry.check_algo(exp, algo)
        df = run_seeds(registry, exp, algo, [seed], experiment_params(cfg, exp))[0]
        out[run_key(exp, algo, seed)] = table_hash(keyed(df, exp, algo, seed))   # the run table's columns
    return out


def environment() -> dict:
    """What the hashes were made with (for the JSON files; not compared)."""
    import platform

    import numba
    import torch

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    return {"torch": torch.__version__, "numpy": np.__version__, "numba": numba.__version__,
            "python": platform.python_version(), "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "cpu": cpu}


def load(path: Path = HASHES) -> dict[str, str]:
    return json.loads(Path(path).read_text())["hashes"]


def _write_json(path: Path, doc: dict) -> None:
    from .tidy import atomic_write_text

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(path), json.dumps(doc, indent=1, sort_keys=True) + "\n")


def write(hashes: dict[str, str], path: Path = HASHES, ops: dict[str, str] | None = None,
          ops_path: Path = OPS_FILE) -> None:
    """Write the run hashes (and the operation hashes, if given) with the settings they were made with."""
    from .numerics import PINNED, pinning_enabled

    if not pinning_enabled():
        raise RuntimeError("refusing to write golden hashes with HRLMETA_PIN_NUMERICS=0 (CPU-dependent)")
    env = environment()
    _write_json(path, {"about": "hrlmeta golden: SHA-256 of the golden run tables (config/config.yaml + "
                                f"{' + '.join(OVERLAYS)} + each experiment.yaml's golden params; timing columns excluded); "
                                f"regenerate with `{REGENERATE}`",
                       "pinned": PINNED, "made_with": env, "hashes": hashes})
    if ops is not None:
        _write_json(ops_path, {"about": "hrlmeta golden: SHA-256 of the outputs of every probed operation "
                                        f"(hrlmeta.golden_probe); regenerate with `{REGENERATE}`",
                               "pinned": PINNED, "made_with": env, "ops": ops})


def load_ops(path: Path = OPS_FILE) -> dict[str, str]:
    return json.loads(Path(path).read_text())["ops"]


def compare(got: dict[str, str], want: dict[str, str]) -> list[str]:
    """Lines describing every mismatch (empty: all equal)."""
    lines = []
    for key in sorted(set(got) | set(want)):
        g, w = got.get(key), want.get(key)
        if g != w:
            lines.append(f"  {key}: got {g or '(not run)'}, committed {w or '(none)'}")
    return lines


def main(write_files: bool = False, as_json: bool = False, overlays=(), ops_only: bool = False,
         ops_file: Path = OPS_FILE, hashes_file: Path = HASHES, *, registry=None) -> int:
    """``hrlmeta golden``: the operation probe, then the golden runs; compare, or ``write_files``."""
    import sys

    from . import golden_probe

    ops = golden_probe.compute()
    if write_files and (overlays or ops_only):
        raise SystemExit("--write takes neither --configfile nor --ops-only: it regenerates every committed hash")
    runs = {} if ops_only else compute(overlays=(*OVERLAYS, *overlays), registry=registry)
    if as_json:
        print(json.dumps({"golden": runs, "ops": ops}, sort_keys=True))
        return 0
    for key, h in runs.items():
        print(f"{key}: {h}")
    if write_files:
        write(runs, hashes_file, ops, ops_file)
        print(f"wrote {hashes_file} and {ops_file}")
        return 0
    status = 0
    if not Path(ops_file).exists():
        print(f"no committed operation hashes at {ops_file}; create them with `{REGENERATE}`", file=sys.stderr)
        status = 1
    else:
        bad_ops = golden_probe.compare(ops, load_ops(ops_file))
        if bad_ops:
            print(f"operations whose outputs differ from {ops_file} ({len(bad_ops)} of {len(ops)}):\n"
                  + "\n".join(bad_ops), file=sys.stderr)
            status = 1
        else:
            print(f"all {len(ops)} probed operations match {ops_file}")
    if not ops_only:
        if not Path(hashes_file).exists():
            print(f"no committed hashes at {hashes_file}; create them with `{REGENERATE}`", file=sys.stderr)
            status = 1
        else:
            bad = compare(runs, load(hashes_file))
            if bad:
                print("golden hash mismatch:\n" + "\n".join(bad), file=sys.stderr)
                status = 1
            else:
                print(f"all {len(runs)} golden run tables match {hashes_file}")
    if status:
        print("\n" + DRIFT_HELP, file=sys.stderr)
    return status
