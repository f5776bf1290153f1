"""Process-level settings that must happen before numpy, numba or torch are imported (or, for torch,
before its first numerical operation).

Two kinds:

- :func:`limit_threads`: BLAS / OpenMP / numba pools (the workflow runs single-threaded jobs side by side).
- :func:`pin_numerics`: the numerical kernels. Same-machine determinism is not enough for "the same seed
  gives the same table on another machine": torch, MKL, OpenBLAS, oneDNN and numpy pick their kernels from
  the CPU at run time (instruction set, and for MKL and OpenBLAS also the CPU's vendor and model), so two
  x86-64 CPUs give different bits, and after hundreds of training iterations different numbers.
  :data:`PINNED` fixes every such choice to a code path that does not depend on the CPU's vendor or
  model (measured: ``docs/determinism.md``). ``hrlmeta`` applies it when the package is imported
  (``hrlmeta/__init__.py``), i.e. before any hrlmeta code can import numpy/numba/torch.

``HRLMETA_PIN_NUMERICS=0`` in the environment turns the pinning off (each library then picks the fastest
code path this CPU has: runs are still deterministic on one machine, but not across CPU generations).
"""

from __future__ import annotations

import os
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")

#: environment settings that make every numerical kernel independent of the CPU's vendor and model, on
#: x86-64 CPUs with AVX2 and FMA (x86-64-v3: Intel since 2013, AMD since 2015). Measured with
#: ``python -m hrlmeta.bench determinism`` (docs/determinism.md): ATen's and MKL's choices change the bits.
PINNED: dict[str, str] = {
    # PyTorch's own vectorised kernels (elementwise, reductions, softmax, GRU gates, random normals, fused
    # Adam, ...) are compiled for DEFAULT / AVX2 / AVX512 and picked by the CPU's instruction sets;
    # reductions sum in vector-width-sized chunks, so they give different bits. The AVX2 build is
    # ordinary compiled code (no vendor check): the same instructions on every AVX2 CPU.
    "ATEN_CPU_CAPABILITY": "avx2",
    # MKL (torch's BLAS/LAPACK: every matmul, bmm/baddbmm, linalg.solve) dispatches by CPU vendor and
    # model. Conditional Numerical Reproducibility fixes one code path; the ISA-specific branches (AVX2,
    # ...) "are available only for Intel processors" (on AMD MKL silently runs its AUTO choice instead),
    # COMPATIBLE is the one branch Intel documents for Intel and Intel-compatible CPUs: a single SSE2 path
    # without the approximation instructions (rcpps/rsqrtps) whose results differ between vendors.
    "MKL_CBWR": "COMPATIBLE",
    # oneDNN (mkldnn convolutions / some matmuls and RNN primitives) JIT-compiles for the best ISA; cap it.
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "DNNL_MAX_CPU_ISA": "AVX2",
    # numpy's run-time dispatch (AVX-512 loops for exp, log, sort, ... on top of the AVX2 ones): up to
    # x86-64-v3 (numpy >= 2.4 names; older numpy ignores an unknown name with a warning).
    "NPY_ENABLE_CPU_FEATURES": "X86_V3",
    # numpy's BLAS/LAPACK (OpenBLAS, DYNAMIC_ARCH) picks kernels by CPU model (Haswell on AVX2 Intel and
    # on AMD Zen, SkylakeX / Cooperlake / SapphireRapids kernels on AVX-512 Intel): the Haswell kernels
    # everywhere. Read when numpy loads.
    "OPENBLAS_CORETYPE": "Haswell",
    # ... on one thread: OpenBLAS splits a float32 product differently with more threads, and the bits
    # change (measured: the probe's rl2_gru_numpy_blas and maml_mlp_numpy_blas_second_order differ between
    # 1 and 2 threads). The torch agents' products run there (hrlmeta.blas), and jobs run side by side.
    "OPENBLAS_NUM_THREADS": "1",
}
# Not pinned, because measured to make no difference: numba's target CPU (the tabular agents compile
# without fastmath, so LLVM neither contracts a*b+c into FMA nor reorders sums; host, "haswell" and
# "generic" targets give identical tables). The intra-op thread count DOES change torch results (2 vs 1
# thread: different tables), so the torch experiments train on 1 thread (configure_torch(1); RL^2 on
# its ``torch_threads`` parameter, 1 by default) whatever ``--threads`` says.

#: what ``torch.backends.cpu.get_cpu_capability()`` reports under the pinned ATEN_CPU_CAPABILITY
_TORCH_CAPABILITY = {"default": "DEFAULT", "avx2": "AVX2", "avx512": "AVX512"}


def limit_threads(n: int) -> None:
    """Limit BLAS / OpenMP / numba pools to ``n`` threads unless the user already set them."""
    for var in THREAD_VARS:
        os.environ.setdefault(var, str(int(n)))


def pinning_enabled() -> bool:
    return os.environ.get("HRLMETA_PIN_NUMERICS", "1").strip().lower() not in ("0", "false", "no", "off")


def pin_numerics() -> dict[str, str]:
    """Set :data:`PINNED` in ``os.environ`` (overriding other values: a stray shell setting must not
    silently change the numbers) unless ``HRLMETA_PIN_NUMERICS=0``. Returns what was set.

    Effective only for libraries that have not loaded yet (numpy, numba) or have not run a kernel yet
    (torch, MKL, oneDNN); :func:`configure_torch` checks torch's actual choice."""
    if not pinning_enabled():
        return {}
    late = [m for m in ("numpy", "numba") if m in sys.modules]
    for var, value in PINNED.items():
        if var.startswith(("NPY_", "OPENBLAS_")) and "numpy" in late:
            continue  # numpy read its dispatch settings at import; changing the variable now misleads
        if var.startswith("NUMBA_") and "numba" in late:
            continue
        os.environ[var] = value
    return dict(PINNED)


def configure_torch(threads: int | None = None) -> None:
    """Torch settings of a training run: ``threads`` intra-op threads (None: leave as set by
    :func:`limit_threads`), deterministic algorithms, and a check that the pinned kernel dispatch is in
    effect (torch decides it at its first operation). Results are reproducible for a fixed thread count
    (the workflow's jobs use 1): parallel reductions split their work by thread."""
    import torch

    if threads is not None:
        torch.set_num_threads(int(threads))
    torch.use_deterministic_algorithms(True)
    if pinning_enabled():
        if os.environ.get("OPENBLAS_NUM_THREADS") != PINNED["OPENBLAS_NUM_THREADS"]:
            raise RuntimeError(
                f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')!r}, not the pinned "
                f"{PINNED['OPENBLAS_NUM_THREADS']!r}: numpy loaded before hrlmeta.numerics.pin_numerics() "
                "could pin it, and the torch agents' products (hrlmeta.blas) change their bits with the thread "
                "count. Import hrlmeta before numpy (or set HRLMETA_PIN_NUMERICS=0 to accept other results).")
        want = _TORCH_CAPABILITY.get(PINNED["ATEN_CPU_CAPABILITY"])
        got = torch.backends.cpu.get_cpu_capability()
        if want is not None and got != want:
            raise RuntimeError(
                f"torch runs its {got} kernels, not the pinned {want}: torch ran an operation before "
                "hrlmeta.numerics.pin_numerics() set ATEN_CPU_CAPABILITY. Import hrlmeta before using "
                "torch (or set HRLMETA_PIN_NUMERICS=0 to accept CPU-dependent results).")


#: glibc ``mallopt`` parameters for training processes (see :func:`keep_freed_memory`)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
MALLOC_SETTINGS = {"trim_threshold": 512 << 20, "top_pad": 64 << 20, "mmap_threshold": 32 << 20}


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for reuse instead of handing it back to the kernel.

    The torch learners allocate and free the same batch-sized buffers (0.1-10 MB) every update. With
    glibc's defaults, blocks above the mmap threshold are ``mmap``-ed and ``munmap``-ed each time and the
    heap top is trimmed, so every update page-faults fresh zeroed pages: measured 12-16% of a nav2d_finn
    job's CPU time as system time (``/usr/bin/time``: 2.2 of 18 s), ~0.5 s with these settings, same
    tables (where a buffer lies in memory does not change any result: torch aligns every tensor to 64
    bytes either way). A no-op (returns False) where the C library has no ``mallopt`` (non-glibc)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = [mallopt(_M_MMAP_THRESHOLD, MALLOC_SETTINGS["mmap_threshold"]),
          mallopt(_M_TRIM_THRESHOLD, MALLOC_SETTINGS["trim_threshold"]),
          mallopt(_M_TOP_PAD, MALLOC_SETTINGS["top_pad"])]
    return all(v == 1 for v in ok)
