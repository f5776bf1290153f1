"""The steps of the workflow as plain functions. Snakemake rules and the ``hrlmeta`` CLI both call
these, so a rule stays one line and every step can be run (and tested) by hand."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

from . import experiments as registry
from . import tidy


def _finish(mod, experiment: str, algo: str, seed: int, df, out, elapsed: float, cpu: float) -> pd.DataFrame:
    """Check one run's table against the run's keys, order its columns, validate and write it atomically."""
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise RuntimeError(f"{experiment}/{algo}/seed{seed}: train() returned no rows")
    for col, val in (("experiment", experiment), ("algo", algo), ("seed", int(seed))):
        if col in df.columns and not (df[col] == val).all():
            raise RuntimeError(f"{experiment}/{algo}/seed{seed}: column {col!r} disagrees with the run")
        df[col] = val
    front = ["experiment", "env", "algo", "seed"]
    df = df[front + [c for c in df.columns if c not in front]]
    df = tidy.write_run(df, out, mod.KIND)
    # `hrlmeta plan --calibrate` reads the CPU seconds from this line in the job's log
    print(f"{experiment}/{algo}/seed{seed}: {len(df)} rows in {elapsed:.2f}s ({cpu:.3f} CPU-s) -> {out}")
    return df


def train(experiment: str, algo: str, seed: int, params: dict, out: str | os.PathLike) -> pd.DataFrame:
    """One training run -> validated tidy table written atomically to ``out``."""
    registry.check_algo(experiment, algo)
    mod = registry.get(experiment)
    t0, c0 = time.perf_counter(), time.process_time()
    df = mod.train(algo, int(seed), params)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    return _finish(mod, experiment, algo, seed, df, out, elapsed, cpu)


def train_seeds(experiment: str, algo: str, seeds: list[int], params: dict, out_pattern: str) -> list[pd.DataFrame]:
    """Several seeds -> one table each, written to ``out_pattern`` with ``{seed}`` replaced.

    An experiment with ``train_batch(algo, seeds, params) -> list[DataFrame]`` trains the seeds as one batch
    (a seed's table does not depend on which seeds share the batch); otherwise they are trained in turn.
    The CPU time printed per seed is then the batch's share (total / number of seeds)."""
    registry.check_algo(experiment, algo)
    mod = registry.get(experiment)
    seeds = [int(s) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seed: repeated seed(s) in {seeds}")
    paths = [str(out_pattern).replace("{seed}", str(s)) for s in seeds]
    if len(seeds) > 1 and len(set(paths)) != len(paths):
        raise ValueError(f"--out {out_pattern}: several seeds need a '{{seed}}' placeholder in the path")
    batch = getattr(mod, "train_batch", None)
    if batch is None or len(seeds) == 1:
        from .progress import progress

        return [train(experiment, algo, s, params, p)
                for s, p in zip(progress(seeds, desc=f"{experiment}/{algo}", unit="seed", disable=len(seeds) < 2),
                                paths)]
    t0, c0 = time.perf_counter(), time.process_time()
    dfs = batch(algo, seeds, params)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if len(dfs) != len(seeds):
        raise RuntimeError(f"{experiment}/{algo}: train_batch returned {len(dfs)} tables for {len(seeds)} seeds")
    n = len(seeds)
    return [_finish(mod, experiment, algo, s, df, p, elapsed / n, cpu / n) for s, df, p in zip(seeds, dfs, paths)]


def build_table(experiment: str, runs: list[str], out: str | os.PathLike) -> pd.DataFrame:
    """Concatenate the run tables of one experiment into its tidy table."""
    mod = registry.get(experiment)
    df = tidy.concat_runs(runs, mod.KIND)
    tidy.validate(df, mod.KIND, where=str(out))
    tidy.write_parquet(df, out)
    return df


def figures(experiment: str, table: str | os.PathLike, params: dict, outdir: str | os.PathLike) -> list[Path]:
    mod = registry.get(experiment)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    names = getattr(mod, "FIGURES", ())
    if not names:
        return []
    from .plotting import setup

    setup()
    mod.figures(tidy.read_parquet(table), params, outdir)
    paths = [outdir / f"{experiment}_{n}.png" for n in names]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise RuntimeError(f"{experiment}: figures() did not write {missing}")
    return paths


def claims(cfg: dict, tables: dict[str, str], out: str | os.PathLike, notes_out: str | os.PathLike | None = None,
           robustness_out: str | os.PathLike | None = None, budget_out: str | os.PathLike | None = None):
    """Decide every declared claim whose experiment has a table; write claims.tsv (+ notes, the
    robustness specifications and the budget details)."""
    import json

    from . import claims as engine
    from .tidy import atomic_write_text

    declared = engine.load_claims(cfg.get("claims", "config/claims.yaml"))
    frames = {e: tidy.read_parquet(p) for e, p in tables.items()}
    ev = engine.evaluate_all(declared, frames, cfg)
    engine.write_tsv(ev.claims, out)
    if notes_out:
        atomic_write_text(notes_out, json.dumps(ev.notes, indent=1, sort_keys=True))
    if robustness_out:
        engine.write_tsv(ev.robustness, robustness_out)
    if budget_out:
        atomic_write_text(budget_out, json.dumps(ev.budget, indent=1, sort_keys=True))
    return ev.claims
