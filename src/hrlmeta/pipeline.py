"""The steps of the workflow as plain functions. Snakemake rules and the ``hrlmeta`` CLI both call
these, so a rule stays one line and every step can be run (and tested) by hand. Each is handed the
experiment registry (:class:`hrlmeta.experiments.Registry`); none imports an experiment itself."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

from . import tidy


def train(experiment: str, algo: str, seed: int, params: dict, out: str | os.PathLike, registry) -> pd.DataFrame:
    """One training run -> validated tidy table written atomically to ``out``."""
    registry.check_algo(experiment, algo)
    mod = registry.get(experiment)
    t0, c0 = time.perf_counter(), time.process_time()
    df = mod.train(algo, int(seed), params)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
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


def build_table(experiment: str, runs: list[str], out: str | os.PathLike, registry) -> pd.DataFrame:
    """Concatenate the run tables of one experiment into its tidy table."""
    kind = registry.describe(experiment)["kind"]
    df = tidy.concat_runs(runs, kind)
    tidy.validate(df, kind, where=str(out))
    tidy.write_parquet(df, out)
    return df


def figures(experiment: str, table: str | os.PathLike, params: dict, outdir: str | os.PathLike, registry) -> list[Path]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    names = registry.describe(experiment)["figures"]
    if not names:
        return []
    from .plotting import setup

    setup()
    draw = registry.part(experiment, "figures", "figures")
    if draw is None:
        raise RuntimeError(f"{experiment}: declares figures {list(names)} but has no figures() to draw them")
    draw(tidy.read_parquet(table), params, outdir)
    paths = [outdir / f"{experiment}_{n}.png" for n in names]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise RuntimeError(f"{experiment}: figures() did not write {missing}")
    return paths


def claims(cfg: dict, tables: dict[str, str], out: str | os.PathLike, notes_out: str | os.PathLike | None = None,
           robustness_out: str | os.PathLike | None = None, budget_out: str | os.PathLike | None = None, *,
           registry):
    """Decide every declared claim whose experiment has a table; write claims.tsv (+ notes, the
    robustness specifications and the budget details)."""
    import json

    from . import claims as engine
    from .tidy import atomic_write_text

    declared = engine.declared_claims(registry, cfg.get("claims"))
    frames = {e: tidy.read_parquet(p) for e, p in tables.items()}
    ev = engine.evaluate_all(declared, frames, cfg, registry)
    engine.write_tsv(ev.claims, out)
    if notes_out:
        atomic_write_text(notes_out, json.dumps(ev.notes, indent=1, sort_keys=True))
    if robustness_out:
        engine.write_tsv(ev.robustness, robustness_out)
    if budget_out:
        atomic_write_text(budget_out, json.dumps(ev.budget, indent=1, sort_keys=True))
    return ev.claims
