"""Tidy run tables: column schemas, validation on write, atomic and deterministic parquet I/O.

A run table is long format, one row per (experiment, algo, seed, step of progress).
Episodic RL experiments (``KIND = "episodic"``) carry ``episode``; meta-RL experiments
(``KIND = "meta"``) carry ``iteration`` and ``phase`` plus the measured ``wall_s``.
Extra columns are welcome; required ones are checked for presence, dtype and simple value rules.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

# column -> (dtype kind, rule). Kinds: "str", "int", "float", "bool".
_COMMON = {
    "experiment": "str",
    "env": "str",
    "algo": "str",
    "seed": "int",
    "return": "float",
}
SCHEMAS: dict[str, dict[str, str]] = {
    "episodic": {
        **_COMMON,
        "episode": "int",
        "steps": "int",
        "success": "bool",
        "decisions": "int",
    },
    "meta": {
        **_COMMON,
        "iteration": "int",
        "phase": "str",
        "wall_s": "float",
    },
}
#: columns that are measurements of the machine (timings), not results of the seeded computation:
#: the only columns allowed to differ between two runs of the same config and seed.
MEASURED_COLUMNS = ("wall_s",)

_NONNEG = ("seed", "episode", "steps", "decisions", "iteration", "wall_s")


class SchemaError(ValueError):
    """A tidy table does not follow its schema; the message names the column."""


def _dtype_ok(series: pd.Series, kind: str) -> bool:
    if kind == "str":
        return pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)
    if kind == "int":
        return pd.api.types.is_integer_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if kind == "float":
        return pd.api.types.is_float_dtype(series)
    if kind == "bool":
        return pd.api.types.is_bool_dtype(series)
    raise ValueError(kind)


def validate(df: pd.DataFrame, kind: str, where: str = "table") -> pd.DataFrame:
    """Check ``df`` against the ``kind`` schema; return it unchanged or raise :class:`SchemaError`."""
    if kind not in SCHEMAS:
        raise SchemaError(f"{where}: unknown table kind {kind!r}; expected one of {sorted(SCHEMAS)}")
    schema = SCHEMAS[kind]
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise SchemaError(f"{where}: missing required column(s) {missing} for a {kind} table")
    for col, dkind in schema.items():
        s = df[col]
        if not _dtype_ok(s, dkind):
            raise SchemaError(f"{where}: column {col!r} has dtype {s.dtype}, expected {dkind}")
        if s.isna().any():
            raise SchemaError(f"{where}: column {col!r} has {int(s.isna().sum())} missing value(s)")
        if col in _NONNEG and (s < 0).any():
            raise SchemaError(f"{where}: column {col!r} has negative values (min {s.min()})")
        if dkind == "float" and col != "return" and not np.isfinite(s.to_numpy()).all():
            raise SchemaError(f"{where}: column {col!r} has non-finite values")
    if kind == "episodic" and (df["decisions"] > df["steps"]).any():
        bad = df.loc[df["decisions"] > df["steps"]].iloc[0]
        raise SchemaError(
            f"{where}: column 'decisions' exceeds 'steps' (episode {bad['episode']}: "
            f"{bad['decisions']} > {bad['steps']})"
        )
    return df


def normalise(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Cast required columns to their canonical dtypes (int64, float64, bool, str)."""
    df = df.copy()
    for col, dkind in SCHEMAS[kind].items():
        if col not in df.columns:
            continue
        if dkind == "int":
            df[col] = df[col].astype("int64")
        elif dkind == "float":
            df[col] = df[col].astype("float64")
        elif dkind == "bool":
            df[col] = df[col].astype(bool)
        elif dkind == "str":
            df[col] = df[col].astype(str)
    return df.reset_index(drop=True)


def present(df: pd.DataFrame, candidates, column: str = "algo") -> list:
    """The ``candidates`` that occur in ``df[column]``, in the candidates' order (one pass over the
    column, however many candidates)."""
    found = set(df[column].unique())
    return [c for c in candidates if c in found]


def without_measured(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without its timing columns: what must be identical across reruns."""
    return df.drop(columns=[c for c in df.columns if c in MEASURED_COLUMNS])


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_parquet(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Deterministic, atomic parquet write (same frame -> same bytes)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", write_statistics=True)
    atomic_write_bytes(path, buf.getvalue())


def read_parquet(path: str | os.PathLike) -> pd.DataFrame:
    return pd.read_parquet(path)


def write_run(df: pd.DataFrame, path: str | os.PathLike, kind: str) -> pd.DataFrame:
    """Normalise, validate and atomically write one run table."""
    df = normalise(df, kind)
    validate(df, kind, where=str(path))
    write_parquet(df, path)
    return df


def concat_runs(paths: list[str | os.PathLike], kind: str) -> pd.DataFrame:
    """Concatenate run tables in a canonical order (algo, seed, then row order)."""
    frames = [read_parquet(p) for p in paths]
    if not frames:
        raise SchemaError("no run tables to concatenate")
    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values(["algo", "seed"], kind="stable").reset_index(drop=True)
    return normalise(df, kind)
