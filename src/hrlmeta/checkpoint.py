"""Checkpoint and resume inside a training job.

A training loop that can be resumed asks for its run's checkpoint, ``ck = checkpoint.for_run(experiment,
algo, seeds, params)``, resumes from ``ck.load()`` when that returns a state, calls ``ck.save(state)``
whenever ``ck.due(progress)`` says so, and ``ck.done()`` once its tables are complete. The state is the
loop's *whole* training state (networks, optimisers, replay buffers, every random stream as its generator
object, counters, the rows of the partial run table), pickled by ``torch.save``: saving reads it and
changes nothing, so a resumed run continues with exactly the numbers the uninterrupted run would have
used, and its table is byte-identical (``tests/test_checkpoint.py`` kills a job with SIGKILL part-way).

Files are written atomically (a temporary file, then ``os.replace``): a job killed while saving keeps its
previous checkpoint. A checkpoint belongs to one (experiment, algorithm, seeds, params, code fingerprint):
another configuration or changed code never resumes from it. ``done`` removes it.

Checkpoints are off unless a job enables them: ``hrlmeta train --checkpoint-dir DIR`` with
``--checkpoint-minutes M`` (CPU-minutes of the process between saves) and/or ``--checkpoint-every N``
(progress units of the loop, e.g. environment steps, between saves); the workflow passes the config's
``checkpoint`` block (see ``config/config.yaml``). Outside a job (tests, notebooks) ``for_run`` returns a
checkpoint that never saves.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

_JOB: dict | None = None


@contextlib.contextmanager
def job(directory: str | os.PathLike | None, every_cpu_minutes: float | None = None, every: int | None = None,
        code: str | None = None):
    """Enable checkpoints for the training calls inside the ``with`` block (the CLI's training job)."""
    global _JOB
    prev = _JOB
    _JOB = None if directory is None else {"dir": Path(directory), "every_cpu_s": None if every_cpu_minutes is None
                                           else 60.0 * float(every_cpu_minutes), "every": every, "code": code,
                                           "finished": []}
    ok = False
    try:
        yield
        ok = True
    finally:
        job_state, _JOB = _JOB, prev
        # the checkpoints of finished runs go only once the job has written their tables (its normal end)
        if ok and job_state is not None:
            for path in job_state["finished"]:
                _remove(path)


def _key(experiment: str, algo: str, seeds, params: dict, code: str | None) -> dict:
    blob = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str).encode()
    return {"experiment": experiment, "algo": algo, "seeds": [int(s) for s in seeds], "code": code,
            "params_sha256": hashlib.sha256(blob).hexdigest()}


@dataclass
class Checkpoint:
    path: Path | None
    key: dict
    every_cpu_s: float | None = None
    every: int | None = None

    def __post_init__(self):
        self._cpu = time.process_time()
        self._last = None

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def load(self):
        """The saved state of this run, or None (no checkpoint, or one of another run)."""
        if self.path is None or not self.path.exists():
            return None
        import torch

        try:
            doc = torch.load(self.path, weights_only=False)
        except Exception as e:  # a file cut short by a lost node: start afresh rather than fail every retry
            print(f"ignoring unreadable checkpoint {self.path} ({type(e).__name__}: {e})", flush=True)
            return None
        if not isinstance(doc, dict) or doc.get("key") != self.key:
            return None
        self._last = doc.get("progress")
        print(f"resuming from {self.path} (progress {self._last})", flush=True)
        return doc["state"]

    def due(self, progress: int) -> bool:
        """Whether to save now, at ``progress`` (the loop's own unit, e.g. environment steps so far)."""
        if self.path is None:
            return False
        if self.every is not None and progress - (self._last or 0) >= self.every:
            return True
        return self.every_cpu_s is not None and time.process_time() - self._cpu >= self.every_cpu_s

    def save(self, state, progress: int) -> None:
        if self.path is None:
            return
        import torch

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            torch.save({"key": self.key, "progress": int(progress), "state": state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self._cpu, self._last = time.process_time(), int(progress)

    def done(self) -> None:
        """The run is complete: its checkpoint is removed, with any temporary file a killed save left -- inside
        a job, once the job has written the run's table (the end of :func:`job`'s block)."""
        if self.path is None:
            return
        if _JOB is not None:
            _JOB["finished"].append(self.path)
        else:
            _remove(self.path)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    for tmp in path.parent.glob(path.name + ".tmp*"):
        tmp.unlink(missing_ok=True)


def for_run(experiment: str, algo: str, seeds, params: dict) -> Checkpoint:
    """The checkpoint of one training call (a disabled one outside a job with checkpoints)."""
    key = _key(experiment, algo, seeds, params, None if _JOB is None else _JOB["code"])
    if _JOB is None:
        return Checkpoint(None, key)
    tag = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    seeds = key["seeds"]
    name = f"{experiment}-{algo}-seeds{seeds[0]}-{seeds[-1]}-{tag}.ckpt"
    return Checkpoint(_JOB["dir"] / name, key, _JOB["every_cpu_s"], _JOB["every"])


class Cells:
    """The checkpoint of a run made of cells trained in turn (e.g. RL²'s (n, k) cells, each an inner loop
    that resumes: :func:`hrlmeta.algos.rl2.train`). The saved state is the rows of the finished cells, the
    index of the cell in training and that cell's inner state; progress counts across cells.

    ``done, rows = cells.start()``: the cells finished before (skip them) and their rows;
    ``cells.cell(i, rows, base)``: the checkpoint the inner loop of cell ``i`` uses (``rows``: the run's
    rows before cell ``i``, kept in every save; ``base``: progress before cell ``i``)."""

    def __init__(self, ck: Checkpoint):
        self.ck = ck
        self.saved = ck.load() or {"cell": 0, "rows": [], "inner": None}

    def start(self) -> tuple[int, list]:
        return int(self.saved["cell"]), list(self.saved["rows"])

    def remaining(self, cells: list, progress) -> tuple[list, list]:
        """The run's rows so far and, for every cell not finished before, ``(index, cell, base)``: ``base`` the
        progress of the cells before it (``progress(cell)``: one cell's units, e.g. its PPO iterations)."""
        first, rows = self.start()
        base = sum(progress(c) for c in cells[:first])
        todo = []
        for i, c in enumerate(cells[first:], start=first):
            todo.append((i, c, base))
            base += progress(c)
        return rows, todo

    def cell(self, index: int, rows: list, base: int = 0) -> "_Cell":
        return _Cell(self, index, rows, base)

    def done(self) -> None:
        self.ck.done()


@dataclass
class _Cell:
    cells: Cells
    index: int
    rows: list
    base: int

    def load(self):
        s = self.cells.saved
        return s["inner"] if int(s["cell"]) == self.index else None

    def due(self, progress: int) -> bool:
        return self.cells.ck.due(self.base + progress)

    def save(self, inner, progress: int) -> None:
        self.cells.ck.save({"cell": self.index, "rows": self.rows, "inner": inner}, self.base + progress)
