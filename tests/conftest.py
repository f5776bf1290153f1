"""Import hrlmeta first: it pins the numerical kernels (hrlmeta.pipeline_env.PINNED) before any test
module imports numpy, numba or torch, so in-process results match the workflow's."""

import hrlmeta  # noqa: F401
