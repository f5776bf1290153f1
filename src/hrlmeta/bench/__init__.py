"""Benchmarks: ``python -m hrlmeta.bench NAME [options]``.

Each benchmark is a module ``hrlmeta.bench.NAME`` with ``main(argv: list[str]) -> dict``; the dict is
printed as the last line of stdout as one JSON object ``{"bench": NAME, ...}``. Timings are medians over
repeats after a warm-up; comparisons are ratios measured in the same process.
"""

from __future__ import annotations

import time
from typing import Callable


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` calls after ``warmup`` calls."""
    import statistics

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def median_cpu_time(fn, repeats: int = 5, warmup: int = 1) -> float:
    """Median CPU time (``time.process_time``) of ``fn()`` over ``repeats`` calls after ``warmup`` calls."""
    import statistics

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)
