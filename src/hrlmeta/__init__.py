"""hrlmeta: a reproducible benchmark and paper-replication pipeline for hierarchical and meta RL.

Layout: ``envs/`` (environments), ``algos/`` (one file per algorithm), ``experiments/`` (one file per
experiment: training runs, claim measurements, figures, report text), and the pipeline core:
``tidy`` (table schemas and atomic I/O), ``stats`` (IQM, stratified bootstrap), ``claims`` (the claims
engine), ``report``, ``pipeline`` (the workflow's steps) and ``cli`` (the ``hrlmeta`` command).
"""

__version__ = "0.1.0"

# Pin the numerical kernels (torch / MKL / oneDNN / numpy / numba code paths) before any of those
# libraries loads or runs, so that a seed gives the same bits on any x86-64 CPU (see numerics).
from .numerics import pin_numerics as _pin_numerics  # noqa: E402

_pin_numerics()
