"""Matrix products of the torch agents through numpy's BLAS (OpenBLAS), differentiable to any order.

Why: torch's CPU matrix products run in MKL, and the only MKL code path that gives the same bits on
Intel and AMD CPUs is its ``COMPATIBLE`` branch (SSE2, see :mod:`hrlmeta.numerics` and
docs/determinism.md), about 4x slower than AVX2 code at the agents' sizes. numpy's OpenBLAS is pinned
to its Haswell (AVX2 + FMA) kernels on every CPU (``OPENBLAS_CORETYPE``): ordinary compiled code picked
by name, not by vendor, so the same instructions run on every x86-64-v3 CPU, at AVX2 speed. On this
project's 2-core AMD EPYC (``python -m hrlmeta.bench blas``), products of the agents' shapes ran
2.7-4.4x faster through OpenBLAS than through MKL's ``COMPATIBLE`` branch.

- :func:`mm` / :func:`addmm_`: plain products on tensors (no autograd), for rollouts and hand-written
  backward passes.
- :func:`matmul`: ``a @ b`` as an autograd function whose backward and forward-mode derivative are built
  from :func:`matmul` itself, so ``torch.autograd.grad(..., create_graph=True)`` (MAML's second order),
  double backward and ``torch.func.jvp`` all work.

Tensors on another device (``cuda``) or of a dtype numpy's BLAS does not cover go to ``torch.matmul``
unchanged. ``HRLMETA_BLAS=torch`` routes everything to torch (for comparison; other numbers).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np
import torch

#: "numpy" (default): CPU float32/float64 products in numpy's OpenBLAS; "torch": torch.matmul (MKL)
BACKEND = os.environ.get("HRLMETA_BLAS", "numpy").strip().lower()
if BACKEND not in ("numpy", "torch"):
    raise ValueError(f"HRLMETA_BLAS={BACKEND!r}: choose 'numpy' or 'torch'")

_NUMPY_DTYPES = (torch.float32, torch.float64)


_NUMPY = BACKEND == "numpy"


@contextmanager
def backend(name: str):
    """Run the enclosed code with products in ``"numpy"`` (OpenBLAS) or ``"torch"`` (MKL); for benchmarks
    and tests that compare the two in one process."""
    global _NUMPY
    if name not in ("numpy", "torch"):
        raise ValueError(f"blas backend {name!r}: choose 'numpy' or 'torch'")
    prev, _NUMPY = _NUMPY, name == "numpy"
    try:
        yield
    finally:
        _NUMPY = prev


def _np(t: torch.Tensor) -> np.ndarray:
    """The tensor's memory as a numpy array (no copy; real CPU tensors only)."""
    return (t.detach() if t.requires_grad else t).numpy()


def _on_numpy(a: torch.Tensor, b: torch.Tensor) -> bool:
    return _NUMPY and a.is_cpu and b.is_cpu and a.dtype == b.dtype and a.dtype in _NUMPY_DTYPES


def mm(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``a @ b`` (numpy broadcasting rules), without autograd; ``out`` (contiguous) receives it."""
    if not _on_numpy(a, b):
        return torch.matmul(a.detach(), b.detach(), out=out)
    if out is None:
        return torch.from_numpy(np.matmul(_np(a), _np(b)))
    np.matmul(_np(a), _np(b), out=out.numpy())
    return out


def addmm_(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``out = a @ b + bias`` in place (product first, then the bias added), without autograd."""
    mm(a, b, out=out)
    return out.add_(bias)


_wrapped = torch._C._functorch.is_functorch_wrapped_tensor   # inside torch.func transforms (jvp, grad, vmap)
_fwd_ad = torch.autograd.forward_ad                           # _current_level >= 0 inside a dual level


def _sum_to(g: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Sum a broadcast gradient back to ``shape`` (leading axes numpy's matmul broadcast over)."""
    if g.shape == shape:
        return g
    lead = g.dim() - len(shape)
    if lead > 0:
        g = g.sum(dim=tuple(range(lead)))
    keep = tuple(i for i, (gs, s) in enumerate(zip(g.shape, shape)) if s == 1 and gs != 1)
    return g.sum(dim=keep, keepdim=True) if keep else g


class _MatMul(torch.autograd.Function):
    """``a @ b`` for ``a`` (..., m, k) and ``b`` (k, n) or (..., k, n), computed by numpy."""

    @staticmethod
    def forward(a, b):
        if b.dim() == 2 and a.dim() > 2:      # one product over all leading rows
            return torch.from_numpy(np.matmul(_np(a).reshape(-1, a.shape[-1]), _np(b))).view(*a.shape[:-1], b.shape[-1])
        return torch.from_numpy(np.matmul(_np(a), _np(b)))

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, b = inputs
        ctx.save_for_backward(a, b)
        ctx.save_for_forward(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _sum_to(matmul(g, b.mT), a.shape)
        if ctx.needs_input_grad[1]:
            if b.dim() == 2:                  # sum over all leading axes as one product
                gb = matmul(a.reshape(-1, a.shape[-1]).mT, g.reshape(-1, g.shape[-1]))
            else:
                gb = _sum_to(matmul(a.mT, g), b.shape)
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        out = None
        if ta is not None:
            out = matmul(ta, b)
        if tb is not None:
            t = matmul(a, tb)
            out = t if out is None else out + t
        return out


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Differentiable ``a @ b`` (``a`` at least 2-D; ``b`` 2-D or batched like ``a``), computed by numpy's
    BLAS on CPU (see the module doc); any order of derivative."""
    if a.dim() < 2 or b.dim() < 2 or not _on_numpy(a, b):
        return torch.matmul(a, b)
    transformed = _wrapped(a) or _wrapped(b) or _fwd_ad.__dict__["_current_level"] >= 0
    if not (a.requires_grad or b.requires_grad or transformed):
        return _MatMul.forward(a, b)        # nothing to differentiate (rollouts): skip the autograd node
    if transformed or _functorch_active():
        return _MatMul.apply(a, b)
    return _apply_matmul(a, b)


# ``Function.apply`` binds the arguments to ``forward``'s signature with ``inspect`` on every call when
# ``setup_context`` is defined (~40 us, as long as a small product); ``forward(a, b)`` has no defaults, so
# outside functorch transforms and forward-mode AD the C implementation is called directly (same graph node).
_apply_matmul = super(torch.autograd.Function, _MatMul).apply
_functorch_active = torch._C._are_functorch_transforms_active


def baddbmm(bias: torch.Tensor, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``torch.baddbmm(bias, x, w)`` (``x @ w + bias`` for stacked networks: ``x`` (S, B, in), ``w``
    (S, in, out), ``bias`` (S, 1, out)) with the product through :func:`matmul` (product first, then the bias
    added); differentiable to any order. On this project's 2-core AMD EPYC the seed-stacked products of TD3's
    and SAC's networks ran 2-2.7x faster than ``torch.baddbmm`` (MKL's ``COMPATIBLE`` branch)."""
    return matmul(x, w) + bias


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``torch.nn.functional.linear`` (``x @ weight.T + bias``) through :func:`matmul`."""
    y = matmul(x, weight.t())
    return y if bias is None else y + bias
