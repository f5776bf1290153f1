"""The steps of the workflow as plain functions. Snakemake rules and the ``hrlmeta`` CLI both call
these, so a rule stays one line and every step can be run (and tested) by hand. Each is handed the
experiment registry (:class:`hrlmeta.experiments.Registry`); none imports an experiment itself."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

from . import tidy


def keyed(df, experiment: str, algo: str, seed: int) -> pd.DataFrame:
    """One run's rows with the run's keys: the ``experiment``, ``algo`` and ``seed`` columns (added by the caller,
    so a training function need not; an error where it gives one that disagrees), then ``env``, in front."""
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise RuntimeError(f"{experiment}/{algo}/seed{seed}: train() returned no rows")
    df = df.copy(deep=False)          # the caller's frame keeps its columns
    for col, val in (("experiment", experiment), ("algo", algo), ("seed", int(seed))):
        if col in df.columns and not (df[col] == val).all():
            raise RuntimeError(f"{experiment}/{algo}/seed{seed}: column {col!r} disagrees with the run")
        df[col] = val
    front = ["experiment", "env", "algo", "seed"]
    return df[front + [c for c in df.columns if c not in front]]


def _finish(kind: str, experiment: str, algo: str, seed: int, df, out, elapsed: float, cpu: float,
            timings: list | None = None) -> pd.DataFrame:
    """Check one run's table against the run's keys, order its columns, validate and write it atomically;
    with ``timings``, append the run's measured cost ``{"seed", "rows", "wall_s", "cpu_s"}``."""
    df = tidy.write_run(keyed(df, experiment, algo, seed), out, kind)
    print(f"{experiment}/{algo}/seed{seed}: {len(df)} rows in {elapsed:.2f}s ({cpu:.3f} CPU-s) -> {out}")
    if timings is not None:
        timings.append({"seed": int(seed), "rows": len(df), "wall_s": round(elapsed, 6), "cpu_s": round(cpu, 6)})
    return df


def train(experiment: str, algo: str, seed: int, params: dict, out: str | os.PathLike, registry,
          timings: list | None = None, code: str | None = None) -> pd.DataFrame:
    """One training run -> validated tidy table written atomically to ``out``. With ``timings``, the
    run's measured cost is appended to it (see :func:`write_timing`). With ``code`` (the job's code
    fingerprint, :mod:`hrlmeta.fingerprint`), the run is stamped as done (see :func:`done_stamp`), and a run
    already stamped done with the same params and code is kept, not trained again (:func:`train_seeds`)."""
    return train_seeds(experiment, algo, [seed], params, out, registry, timings, code)[0]


def run_seeds(registry, experiment: str, algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """The experiment's training (``training.py``'s ``train(algo, seeds, params)``) on ``seeds``, without
    writing anything: one table per seed, each checked to be one table per seed given."""
    dfs = list(registry.trainer(experiment)(algo, [int(s) for s in seeds], params))
    if len(dfs) != len(seeds):
        raise RuntimeError(f"{experiment}/{algo}: train returned {len(dfs)} tables for {len(seeds)} seeds")
    return dfs


def batched(registry, experiment: str) -> bool:
    """Whether the experiment trains a job's seeds as one batch (``batched`` in its experiment.yaml)."""
    return bool(registry.describe(experiment).get("batched"))


def _stamp_path(out) -> Path:
    return Path(str(out) + ".done.json")


def _run_key(experiment: str, algo: str, seed: int, params: dict, code: str) -> dict:
    import hashlib
    import json

    blob = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str).encode()
    return {"experiment": experiment, "algo": algo, "seed": int(seed), "code": code,
            "params_sha256": hashlib.sha256(blob).hexdigest()}


def _write_stamp(out, experiment, algo, seed, params, code, rows, wall, cpu) -> None:
    import json

    from .tidy import atomic_write_text

    doc = {**_run_key(experiment, algo, seed, params, code), "table_sha256": _file_sha256(out), "rows": int(rows),
           "wall_s": round(wall, 6), "cpu_s": round(cpu, 6)}
    atomic_write_text(_stamp_path(out), json.dumps(doc, indent=1) + "\n")


def _file_sha256(path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


#: set to 1 to train every seed again even where a stamp says it is done (e.g. after a library upgrade)
NO_REUSE_VAR = "HRLMETA_NO_REUSE"


def done_stamp(out, experiment: str, algo: str, seed: int, params: dict, code: str) -> dict | None:
    """The stamp of a finished run at ``out`` made by the same (experiment, algorithm, seed, params, code),
    or None. A training job that was killed part-way keeps the runs it finished (each table and its
    stamp are written atomically as the run ends); the job's rerun reuses them and trains only the rest."""
    import json

    path = _stamp_path(out)
    if os.environ.get(NO_REUSE_VAR, "") not in ("", "0") or not (Path(out).exists() and path.exists()):
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    key = _run_key(experiment, algo, seed, params, code)
    if not all(doc.get(k) == v for k, v in key.items()):
        return None
    return doc if doc.get("table_sha256") == _file_sha256(out) else None   # the very table it stamped


def train_seeds(experiment: str, algo: str, seeds: list[int], params: dict, out_pattern: str, registry,
                timings: list | None = None, code: str | None = None) -> list[pd.DataFrame]:
    """Several seeds -> one table each, written to ``out_pattern`` with ``{seed}`` replaced.

    A ``batched`` experiment (experiment.yaml) trains the seeds as one batch (a seed's table does not depend
    on which seeds share the batch), and the cost recorded per seed is the batch's share (total / number of
    seeds); any other is handed one seed at a time.

    With ``code`` (the job's code fingerprint), every finished run is stamped, and seeds whose run is
    already done with the same params and code are not trained again (their table is read back, their
    recorded cost kept): a rerun of a killed job trains only what is missing."""
    registry.check_algo(experiment, algo)
    seeds = [int(s) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seed: repeated seed(s) in {seeds}")
    paths = [str(out_pattern).replace("{seed}", str(s)) for s in seeds]
    if len(seeds) > 1 and len(set(paths)) != len(paths):
        raise ValueError(f"--out {out_pattern}: several seeds need a '{{seed}}' placeholder in the path")
    done: dict[int, pd.DataFrame] = {}
    if code is not None:
        for s, p in zip(seeds, paths):
            stamp = done_stamp(p, experiment, algo, s, params, code)
            if stamp is not None:
                done[s] = pd.read_parquet(p)
                if timings is not None:
                    timings.append({"seed": s, "rows": int(stamp["rows"]), "wall_s": stamp["wall_s"],
                                    "cpu_s": stamp["cpu_s"], "reused": True})
                print(f"{experiment}/{algo}/seed{s}: done before with the same params and code -> {p} (kept)")
    todo = [(s, p) for s, p in zip(seeds, paths) if s not in done]
    kind = registry.describe(experiment)["kind"]
    # a batched experiment gets the job's seeds together; any other one seed at a time, each run written
    # (and stamped) as it ends, so that a killed job keeps the seeds it finished
    groups = [todo] if batched(registry, experiment) and todo else [[sp] for sp in todo]
    from .progress import progress

    for group in progress(groups, desc=f"{experiment}/{algo}", unit="seed", disable=len(groups) < 2):
        for _, p in group:
            _stamp_path(p).unlink(missing_ok=True)   # a table being replaced is never vouched for by an old stamp
        t0, c0 = time.perf_counter(), time.process_time()
        dfs = run_seeds(registry, experiment, algo, [s for s, _ in group], params)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        n = len(group)
        for (s, p), df in zip(group, dfs):
            done[s] = _finish(kind, experiment, algo, s, df, p, elapsed / n, cpu / n, timings)
            if code is not None:
                _write_stamp(p, experiment, algo, s, params, code, len(done[s]), elapsed / n, cpu / n)
    if timings is not None:
        timings.sort(key=lambda r: seeds.index(r["seed"]) if r["seed"] in seeds else -1)
    return [done[s] for s in seeds]


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


def figures(experiment: str, table: str | os.PathLike, params: dict, outdir: str | os.PathLike, registry,
            bootstrap: dict | None = None) -> list[Path]:
    """Draw the experiment's figures; their intervals use ``bootstrap`` (the config's block: the claims'
    settings; None: its defaults) wherever they use :func:`hrlmeta.stats.report_ci`."""
    from .stats import bootstrap_settings

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
    with bootstrap_settings(bootstrap):
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
