"""Golden hashes: short smoke-scale training runs whose tables must come out bit for bit the same on any
x86-64 machine (with the numerical kernels pinned by :mod:`hrlmeta.pipeline_env`).

``hrlmeta golden`` trains the runs in :data:`RUNS` with the smoke-scale parameters
(``config/config.yaml`` + ``config/smoke.yaml``), hashes each run table with :func:`table_hash` and
compares with ``tests/golden/hashes.json``; ``hrlmeta golden --write`` regenerates that file.

Canonical hash of a table (:func:`table_hash`): the measured timing columns (``wall_s`` and every column
named ``*_s``) are dropped; the remaining columns are taken in sorted order, rows in the table's order;
each column contributes its name, a type tag and its values as raw bytes: floats as little-endian IEEE
float64, integers as little-endian int64, booleans as one byte, anything else as UTF-8 text joined by
NUL. SHA-256 over all of it. So a hash changes iff some non-timing value changes in its last bit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
HASHES = ROOT / "tests" / "golden" / "hashes.json"
REGENERATE = "hrlmeta golden --write"

#: (experiment, algo, seed) of every golden run: the torch experiments (MAML, FOMAML, RL^2 in both of its
#: experiments, the chapter's MAML listing) plus one numba tabular agent and numpy bandit/MDP baselines
RUNS: tuple[tuple[str, str, int], ...] = (
    ("nav2d_finn", "maml", 0),
    ("nav2d_finn", "fomaml", 0),
    ("nav2d_seedblog", "maml_as_written", 0),
    ("bandits_duan", "rl2", 0),
    ("tabular_mdp_duan", "rl2", 0),
    ("bandits_duan", "ucb1", 0),
    ("bandits_duan", "thompson", 0),
    ("tabular_mdp_duan", "psrl", 0),
    ("fourrooms_sutton", "intra_option_q", 0),
)

DRIFT_HELP = f"""\
The tables of the runs above no longer hash to the committed values (tests/golden/hashes.json).

What it means: the same (algo, seed, params) now gives different numbers. Either
  (a) you changed what is computed (an algorithm, a default in config/config.yaml or config/smoke.yaml,
      the order of random draws, a dtype): then the change is intended; regenerate the hashes with
          {REGENERATE}
      and commit tests/golden/hashes.json together with the change (and re-run the default scale:
      the README's claims table comes from it, see `hrlmeta readme-table`); or
  (b) you changed nothing: the numerical kernels differ from those the hashes were made with, i.e.
      results depend on the machine (CPU instruction set, library versions). Check that
      HRLMETA_PIN_NUMERICS is not set to 0, that hrlmeta is imported before torch/numpy run anything
      (hrlmeta.pipeline_env.PINNED), and that torch/numpy/numba are the pinned versions. Do not
      regenerate in this case: the drift is the bug (it changes default-scale verdicts).
"""


def is_measured(column: str) -> bool:
    """Timing columns: measurements of the machine, excluded from hashes and determinism checks."""
    return column == "wall_s" or column.endswith("_s")


def _column_bytes(s: pd.Series) -> tuple[str, bytes]:
    if pd.api.types.is_bool_dtype(s):
        return "b", s.to_numpy(dtype=np.uint8).tobytes()
    if pd.api.types.is_integer_dtype(s):
        return "i", s.to_numpy(dtype="<i8").tobytes()
    if pd.api.types.is_float_dtype(s):
        return "f", s.to_numpy(dtype="<f8").tobytes()
    return "s", "\0".join("" if pd.isna(v) else str(v) for v in s).encode()


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


def compute(runs=RUNS, overlays=("config/smoke.yaml",), *, registry) -> dict[str, str]:
    """Train every run (smoke scale) and hash its table; the tables pass through the same code path as
    the workflow's (``train`` + column checks), not through parquet."""
    from .config import experiment_params, load_config

    cfg = load_config(registry, *(ROOT / o for o in overlays))
    out = {}
    for exp, algo, seed in runs:
        registry.check_algo(exp, algo)
        df = registry.get(exp).train(algo, seed, experiment_params(cfg, exp))
        out[run_key(exp, algo, seed)] = table_hash(df)
    return out


def environment() -> dict:
    """What the hashes were made with (for the JSON file; not compared)."""
    import platform

    import numba
    import torch

    return {"torch": torch.__version__, "numpy": np.__version__, "numba": numba.__version__,
            "python": platform.python_version(), "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}


def load(path: Path = HASHES) -> dict[str, str]:
    return json.loads(Path(path).read_text())["hashes"]


def write(hashes: dict[str, str], path: Path = HASHES) -> None:
    from .pipeline_env import PINNED, pinning_enabled

    if not pinning_enabled():
        raise RuntimeError("refusing to write golden hashes with HRLMETA_PIN_NUMERICS=0 (CPU-dependent)")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    doc = {"about": "hrlmeta golden: SHA-256 of smoke-scale run tables (timing columns excluded); "
                    f"regenerate with `{REGENERATE}`",
           "pinned": PINNED, "made_with": environment(), "hashes": hashes}
    Path(path).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def compare(got: dict[str, str], want: dict[str, str]) -> list[str]:
    """Lines describing every mismatch (empty: all equal)."""
    lines = []
    for key in sorted(set(got) | set(want)):
        g, w = got.get(key), want.get(key)
        if g != w:
            lines.append(f"  {key}: got {g or '(not run)'}, committed {w or '(none)'}")
    return lines
