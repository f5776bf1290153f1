"""Process-level settings that must happen before numpy, numba or torch are imported."""

from __future__ import annotations

import os

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


def limit_threads(n: int) -> None:
    """Limit BLAS / OpenMP / numba pools to ``n`` threads unless the user already set them."""
    for var in THREAD_VARS:
        os.environ.setdefault(var, str(int(n)))
