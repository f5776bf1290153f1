"""hrlmeta.blas: numpy-BLAS matrix products are torch's products up to float rounding, and differentiable
to any order (finite differences, double backward, forward mode)."""

import pytest
import torch

from hrlmeta import blas


def _pair(seed, a_shape, b_shape, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*a_shape, generator=g, dtype=dtype, requires_grad=True),
            torch.randn(*b_shape, generator=g, dtype=dtype, requires_grad=True))


@pytest.mark.parametrize("a_shape,b_shape", [((5, 4), (4, 3)), ((3, 5, 4), (4, 6)), ((3, 5, 4), (3, 4, 6))])
def test_matmul_is_torch_matmul_and_its_derivatives_are_exact(a_shape, b_shape):
    a, b = _pair(0, a_shape, b_shape)
    torch.testing.assert_close(blas.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(blas.matmul, (a, b))
    assert torch.autograd.gradgradcheck(blas.matmul, (a, b))            # MAML's second order
    assert torch.autograd.gradcheck(blas.matmul, (a, b), check_forward_ad=True, check_backward_ad=False)


def test_matmul_with_an_expanded_weight_sums_its_gradient_over_tasks():
    """MAML's per-task views (``expand``, stride 0) of a shared weight: gradients and second derivatives."""
    a, w = _pair(1, (3, 5, 4), (4, 6))
    f = lambda a, w: blas.matmul(a, w.expand(3, 4, 6))  # noqa: E731
    assert torch.autograd.gradcheck(f, (a, w))
    assert torch.autograd.gradgradcheck(f, (a, w))


def test_jvp_under_torch_func_equals_torch():
    a, b = _pair(2, (7, 4), (4, 5))
    t = torch.ones_like(b)
    p1, t1 = torch.func.jvp(lambda w: torch.relu(blas.matmul(a.detach(), w)).sum(), (b.detach(),), (t,))
    p2, t2 = torch.func.jvp(lambda w: torch.relu(a.detach() @ w).sum(), (b.detach(),), (t,))
    torch.testing.assert_close((p1, t1), (p2, t2), rtol=1e-12, atol=1e-12)


def test_float32_products_agree_with_torch_and_out_is_written():
    a, b = _pair(3, (64, 12), (12, 192), torch.float32)
    out = torch.empty(64, 192)
    assert blas.mm(a, b, out=out) is out
    torch.testing.assert_close(out, (a @ b).detach(), rtol=1e-5, atol=1e-5)
    bias = torch.randn(192)
    torch.testing.assert_close(blas.addmm_(torch.empty(64, 192), a, b, bias), torch.addmm(bias, a, b).detach(),
                               rtol=1e-5, atol=1e-5)


def test_other_dtypes_fall_back_to_torch():
    a = torch.ones(2, 3, dtype=torch.int64)
    b = torch.ones(3, 2, dtype=torch.int64)
    assert torch.equal(blas.matmul(a, b), a @ b)


def test_backend_switch_changes_the_route_not_the_value():
    a, b = _pair(4, (6, 5), (5, 3), torch.float32)
    with blas.backend("torch"):
        t = blas.mm(a, b)
    with blas.backend("numpy"):
        n = blas.mm(a, b)
    torch.testing.assert_close(t, n, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="'mkl'"):
        with blas.backend("mkl"):
            pass


def test_bench_reports_its_fields():
    from hrlmeta.bench import blas as bench

    out = bench.main(["--quick", "--repeats", "1"])
    assert out["threads"] == 1 and set(out["products"]) == set(bench.PRODUCT_SHAPES)
    for r in (*out["products"].values(), *out["workloads"].values()):
        assert all(v > 0 for v in r.values())
    assert {"rl2_ppo_iteration_mdp_n10", "maml_meta_iteration_nav2d"} <= set(out["workloads"])
