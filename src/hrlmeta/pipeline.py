"""The steps of the workflow as plain functions. Snakemake rules and the ``hrlmeta`` CLI both call
these, so a rule stays one line and every step can be run (and tested) by hand. Each is handed the
experiment registry (:class:`hrlmeta.experiments.Registry`); none imports an experiment itself."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

from . import tidy


def _finish(mod, experiment: str, algo: str, seed: int, df, out, elapsed: float, cpu: float,
            timings: list | None = None) -> pd.DataFrame:
    """Check one run's table against the run's keys, order its columns, validate and write it atomically;
    with ``timings``, append the run's measured cost ``{"seed", "rows", "wall_s", "cpu_s"}``."""
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise RuntimeError(f"{experiment}/{algo}/seed{seed}: train() returned no rows")
    for col, val in (("experiment", experiment), ("algo", algo), ("seed", int(seed))):
        if col in df.columns and not (df[col] == val).all():
            raise RuntimeError(f"{experiment}/{algo}/seed{seed}: column {col!r} disagrees with the run")
        df[col] = val
    front = ["experiment", "env", "algo", "seed"]
    df = df[front + [c for c in df.columns if c not in front]]
    df = tidy.write_run(df, out, mod.KIND)
    print(f"{experiment}/{algo}/seed{seed}: {len(df)} rows in {elapsed:.2f}s ({cpu:.3f} CPU-s) -> {out}")
    if timings is not None:
        timings.append({"seed": int(seed), "rows": len(df), "wall_s": round(elapsed, 6), "cpu_s": round(cpu, 6)})
    return df


def train(experiment: str, algo: str, seed: int, params: dict, out: str | os.PathLike, registry,
          timings: list | None = None) -> pd.DataFrame:
    """One training run -> validated tidy table written atomically to ``out``. With ``timings``, the
    run's measured cost is appended to it (see :func:`write_timing`)."""
    registry.check_algo(experiment, algo)
    mod = registry.get(experiment)
    t0, c0 = time.perf_counter(), time.process_time()
    df = mod.train(algo, int(seed), params)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    return _finish(mod, experiment, algo, seed, df, out, elapsed, cpu, timings)


def train_seeds(experiment: str, algo: str, seeds: list[int], params: dict, out_pattern: str, registry,
                timings: list | None = None) -> list[pd.DataFrame]:
    """Several seeds -> one table each, written to ``out_pattern`` with ``{seed}`` replaced.

    An experiment with ``train_batch(algo, seeds, params) -> list[DataFrame]`` trains the seeds as one batch
    (a seed's table does not depend on which seeds share the batch); otherwise they are trained in turn.
    The cost recorded per seed is then the batch's share (total / number of seeds)."""
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

        return [train(experiment, algo, s, params, p, registry, timings)
                for s, p in zip(progress(seeds, desc=f"{experiment}/{algo}", unit="seed", disable=len(seeds) < 2),
                                paths)]
    t0, c0 = time.perf_counter(), time.process_time()
    dfs = batch(algo, seeds, params)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if len(dfs) != len(seeds):
        raise RuntimeError(f"{experiment}/{algo}: train_batch returned {len(dfs)} tables for {len(seeds)} seeds")
    n = len(seeds)
    return [_finish(mod, experiment, algo, s, df, p, elapsed / n, cpu / n, timings)
            for s, df, p in zip(seeds, dfs, paths)]


#: version of the timing file a training job writes (`hrlmeta train --timing`)
TIMING_FORMAT = 1


def write_timing(path: str | os.PathLike, experiment: str, algo: str, runs: list[dict],
                 peak_rss_mb: float | None = None) -> None:
    """A training job's timing file (JSON, written atomically): per seed the rows written, wall and
    CPU seconds of training (process start-up excluded), and the process's peak resident memory
    (``peak_rss_mb``, MiB, where measured). ``hrlmeta plan --calibrate`` and the report's budget section
    read it, next to Snakemake's ``benchmark:`` file of the same job."""
    import json

    from .tidy import atomic_write_text

    doc = {"format": TIMING_FORMAT, "experiment": experiment, "algo": algo,
           "seeds": [r["seed"] for r in runs], "runs": runs}
    if peak_rss_mb is not None:
        doc["peak_rss_mb"] = round(float(peak_rss_mb), 1)
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")


def read_timing(path: str | os.PathLike) -> dict:
    """A timing file written by :func:`write_timing`; a clear error naming the file if it is not one."""
    import json

    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable training timing file ({e})") from None
    missing = [k for k in ("format", "experiment", "algo", "seeds", "runs") if k not in doc]
    if missing or doc["format"] != TIMING_FORMAT:
        raise ValueError(f"{path}: not a training timing file of format {TIMING_FORMAT} "
                         f"(missing {missing or 'nothing'}, format {doc.get('format')!r})")
    return doc


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
           robustness_out: str | os.PathLike | None = None, budget_out: str | os.PathLike | None = None,
           samples_out: str | os.PathLike | None = None, *, registry):
    """Decide every declared claim whose experiment has a table; write claims.tsv (+ notes, the
    robustness specifications and the budget details)."""
    import json

    from . import claims as engine
    from .tidy import atomic_write_text

    # every declaration is checked at load; the measures of the experiments that ran are checked by
    # evaluate_all before anything is measured (the others' code need not be importable here)
    declared = engine.declared_claims(registry, cfg.get("claims"), check_measures=False)
    frames = {e: tidy.read_parquet(p) for e, p in tables.items()}
    ev = engine.evaluate_all(declared, frames, cfg, registry)
    engine.write_tsv(ev.claims, out)
    if notes_out:
        atomic_write_text(notes_out, json.dumps(ev.notes, indent=1, sort_keys=True))
    if robustness_out:
        engine.write_tsv(ev.robustness, robustness_out)
    if budget_out:
        atomic_write_text(budget_out, json.dumps(ev.budget, indent=1, sort_keys=True))
    if samples_out:
        atomic_write_text(samples_out, json.dumps(ev.samples, sort_keys=True))
    return ev.claims
