"""MAML / FOMAML / TRPO (src/hrlmeta/algos/maml.py) and the 2D navigation env, checked against exact
answers: finite differences, explicit Hessians, autograd Hessian-vector products, least squares."""

import numpy as np
import pytest
import torch

from hrlmeta.algos import maml as M
from hrlmeta.envs.nav2d import Nav2D

D = torch.float64


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as every training job of the workflow (small ops are slow with a pool)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def small_setup(seed=0, T=3, N=4, H=6, hidden=(5,)):
    env = Nav2D(horizon=H, action_scale=1.0, goal_low=-0.3, goal_high=0.3)
    cfg = M.MamlConfig(hidden=hidden, n_tasks=T, n_traj=N, inner_lr=0.5)
    g = torch.Generator().manual_seed(seed)
    theta = M.init_policy(2, 2, hidden, g, init_log_std=-0.5, dtype=D)
    # non-zero biases: with zero biases every trajectory's first observation (the origin) sits exactly on
    # a ReLU kink, where the inner gradient (hence phi(theta)) is discontinuous and finite differences fail
    for k in theta:
        if k.startswith("b"):
            theta[k] = 0.3 * torch.randn(theta[k].shape, generator=g, dtype=D)
    goals = env.sample_goals(T, g, dtype=D)
    pre = M.process(M.rollout(env, theta, goals, N, g), theta, cfg)
    phi = M.inner_step(M.expand_tasks(theta, T), pre, cfg.inner_lr)
    post = M.process(M.rollout(env, phi, goals, N, g), phi, cfg)
    return env, cfg, theta, pre, post


def meta_grad(theta, pre, post, cfg, second_order):
    leaf = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
    loss, _ = M.meta_objective(leaf, pre, post, cfg, second_order)
    return M.flat(torch.autograd.grad(loss, list(leaf.values())))


def objective_flat(x, theta, pre, post, cfg):
    p = M.unflat(x, theta)
    p = {k: v.clone().requires_grad_(True) for k, v in p.items()}  # adapt() differentiates w.r.t. these
    phi = M.adapt(p, pre, cfg.inner_lr, second_order=True)
    return M.surrogate_loss(phi, post).mean()


def test_second_order_meta_gradient_matches_finite_differences():
    _, cfg, theta, pre, post = small_setup()
    g = meta_grad(theta, pre, post, cfg, second_order=True)
    x0 = M.flat(theta.values())
    rng = torch.Generator().manual_seed(1)
    eps = 1e-6
    for _ in range(4):
        v = torch.randn(x0.shape, generator=rng, dtype=D)
        with torch.enable_grad():
            fp = objective_flat(x0 + eps * v, theta, pre, post, cfg)
            fm = objective_flat(x0 - eps * v, theta, pre, post, cfg)
        fd = float((fp - fm).detach() / (2 * eps))
        assert fd == pytest.approx(float(g @ v), rel=1e-5, abs=1e-9)


def test_first_order_equals_gradient_at_adapted_parameters():
    _, cfg, theta, pre, post = small_setup()
    g_fo = meta_grad(theta, pre, post, cfg, second_order=False)
    phi = M.detach(M.adapt({k: v.clone().requires_grad_(True) for k, v in theta.items()}, pre, cfg.inner_lr,
                           second_order=False))
    leaf = {k: v.clone().requires_grad_(True) for k, v in phi.items()}
    grads = torch.autograd.grad(M.surrogate_loss(leaf, post).mean(), list(leaf.values()))
    expected = M.flat([gr.sum(0) for gr in grads])  # d/d theta of phi_i = theta - const is the identity
    torch.testing.assert_close(g_fo, expected, rtol=1e-10, atol=1e-12)


def test_second_order_term_is_minus_alpha_hessian_times_outer_gradient():
    """g_maml - g_fomaml = -(alpha / T) sum_i H_i grad_phi L_out_i, with H_i the explicit inner Hessian."""
    _, cfg, theta, pre, post = small_setup()
    g_so = meta_grad(theta, pre, post, cfg, True)
    g_fo = meta_grad(theta, pre, post, cfg, False)
    assert float((g_so - g_fo).norm()) > 1e-3 * float(g_fo.norm())  # the Hessian term is not negligible
    x0 = M.flat(theta.values())
    T = pre.n_tasks
    phi = M.detach(M.adapt({k: v.clone().requires_grad_(True) for k, v in theta.items()}, pre, cfg.inner_lr, False))
    expected = torch.zeros_like(x0)
    for i in range(T):
        def inner_i(x, i=i):
            p = {k: v.expand(T, *v.shape) for k, v in M.unflat(x, theta).items()}
            return M.inner_loss(p, pre)[i]
        H = torch.autograd.functional.hessian(inner_i, x0)
        leaf = {k: v.clone().requires_grad_(True) for k, v in phi.items()}
        gi = torch.autograd.grad(M.surrogate_loss(leaf, post)[i], list(leaf.values()))
        g_out = M.flat([gr[i] for gr in gi])
        expected += -cfg.inner_lr * (H @ g_out) / T
    torch.testing.assert_close(g_so - g_fo, expected, rtol=1e-8, atol=1e-11)


@pytest.mark.parametrize("second_order", [True, False])
def test_kl_hvp_equals_autograd_hessian_of_the_meta_kl(second_order):
    _, cfg, theta, pre, post = small_setup()
    leaf = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
    hvp = M.make_kl_hvp(leaf, pre, post, M.MamlConfig(**{**cfg.__dict__, "cg_damping": 0.0}), second_order)
    x0 = M.flat(theta.values())

    def kl(x):
        p = {k: v.clone().requires_grad_(True) if not v.requires_grad else v for k, v in M.unflat(x, theta).items()}
        phi = M.adapt(p, pre, cfg.inner_lr, second_order)
        return M.kl_old_new(phi, post).mean()

    v = torch.randn(x0.shape, generator=torch.Generator().manual_seed(3), dtype=D)
    _, exact = torch.autograd.functional.hvp(kl, x0, v)
    torch.testing.assert_close(hvp(v), exact, rtol=1e-7, atol=1e-10)


def test_trpo_step_respects_the_kl_bound_and_improves_the_surrogate():
    _, cfg, theta, pre, post = small_setup(hidden=(8, 8))
    cfg = M.MamlConfig(**{**cfg.__dict__, "max_kl": 1e-3})
    new, st = M.trpo_step(theta, pre, post, cfg, second_order=True)
    assert st["backtracks"] < cfg.ls_max_steps  # a step was taken
    with torch.enable_grad():
        phi = M.adapt({k: v.clone().requires_grad_(True) for k, v in new.items()}, pre, cfg.inner_lr, False)
    kl = float(M.kl_old_new(M.detach(phi), post).mean())
    assert 0 < kl <= cfg.max_kl
    assert float(M.surrogate_loss(M.detach(phi), post).mean()) < st["loss"]


def test_trpo_full_step_sits_on_the_kl_boundary(monkeypatch):
    """The full step (before any backtracking) has quadratic KL (1/2) d'Hd = max_kl under the step's own
    curvature (the damped Fisher-vector product it was computed with), as rllab's optimiser scales it:
    sqrt(2 max_kl / s'Hs). It used to be sqrt(2) too long (2 max_kl), hidden by the line search."""
    _, cfg, theta, pre, post = small_setup(hidden=(8, 8))
    cfg = M.MamlConfig(**{**cfg.__dict__, "max_kl": 1e-3, "hvp_subsample": 1.0})
    seen = []
    real = M.surrogate_and_kl

    def spy(phi, batch):
        seen.append({k: v.detach().clone() for k, v in phi.items()})
        return real(phi, batch)

    monkeypatch.setattr(M, "surrogate_and_kl", spy)
    M.trpo_step(theta, None, pre, cfg, second_order=False)  # pre: sampled by theta itself (no adaptation)
    assert seen, "no candidate step was evaluated"
    first = seen[0]
    d = M.flat([first[k][0] if first[k].shape != theta[k].shape else first[k] for k in theta]) - M.flat(
        [v.detach() for v in theta.values()])
    leaf = {k: v.detach().requires_grad_(True) for k, v in theta.items()}
    with torch.enable_grad():
        hvp = M.make_kl_hvp(leaf, None, pre, cfg, False)
        quad = 0.5 * float(d @ hvp(d))
    np.testing.assert_allclose(quad / cfg.max_kl, 1.0, rtol=1e-3)


def test_batched_rollouts_equal_unbatched_ones():
    env = Nav2D(horizon=15)
    g = torch.Generator().manual_seed(5)
    theta = M.init_policy(2, 2, (7,), g, dtype=D)
    T, N = 3, 4
    goals = env.sample_goals(T, g, dtype=D)
    phi = {k: v.expand(T, *v.shape) + 0.1 * torch.randn((T, *v.shape), generator=g, dtype=D)
           for k, v in theta.items()}  # different parameters per task
    noise = torch.randn((T, N, env.horizon, 2), generator=g, dtype=D)
    b = M.rollout_with_noise(env, phi, goals, noise)
    for i in range(T):
        for j in range(N):
            p_i = {k: v[i] for k, v in phi.items()}
            one = M.rollout_with_noise(env, p_i, goals[i:i + 1], noise[i:i + 1, j:j + 1])
            # shared parameters with a single task: same computation, one trajectory
            torch.testing.assert_close(one.obs[0, 0], b.obs[i, j], rtol=1e-12, atol=1e-13)
            torch.testing.assert_close(one.rew[0, 0], b.rew[i, j], rtol=1e-12, atol=1e-13)
            torch.testing.assert_close(one.mask[0, 0], b.mask[i, j])


def test_env_clips_velocity_rewards_distance_and_stops_at_the_goal():
    env = Nav2D(horizon=5)
    pos = torch.zeros(1, 2)
    goal = torch.tensor([[0.05, -0.3]])
    new, r, done = env.step(pos, torch.tensor([[0.5, -5.0]]), goal)  # 0.1 * a, clipped to +-0.1
    torch.testing.assert_close(new, torch.tensor([[0.05, -0.1]]))
    assert float(r) == pytest.approx(-0.2)
    assert not bool(done)
    new, r, done = env.step(torch.tensor([[0.05, -0.2]]), torch.tensor([[0.0, -1.0]]), goal)
    assert bool(done) and float(r) == pytest.approx(0.0, abs=1e-6)
    # an episode that ends early is masked afterwards
    theta = M.init_policy(2, 2, (4,), torch.Generator().manual_seed(0), init_log_std=-20.0)
    theta["W1"].zero_()
    theta["b1"] = torch.tensor([10.0, 0.0])  # mean action (10, 0) -> velocity (0.1, 0)
    b = M.rollout_with_noise(env, theta, torch.tensor([[0.2, 0.0]]), torch.zeros(1, 1, 5, 2))
    assert b.mask[0, 0].tolist() == [1, 1, 0, 0, 0]
    assert float(b.returns()[0, 0]) == pytest.approx(-0.1, abs=1e-6)


def test_linear_baseline_fits_an_exactly_linear_return_exactly():
    g = torch.Generator().manual_seed(2)
    obs = torch.randn((2, 3, 10, 2), generator=g, dtype=D)
    feats = M.baseline_features(obs).reshape(2, 30, -1)
    w_true = torch.randn((2, feats.shape[-1]), generator=g, dtype=D)
    y = (feats @ w_true[..., None])[..., 0]
    mask = torch.ones_like(y)
    mask[:, -4:] = 0.0
    y_masked = torch.where(mask > 0, y, torch.full_like(y, 1e6))  # masked targets must not matter
    coef = M.fit_linear_baseline(feats, y_masked, mask, reg=0.0)
    torch.testing.assert_close(coef, w_true, rtol=1e-8, atol=1e-8)


def test_discounted_returns_match_a_python_loop():
    rew = torch.randn((2, 3, 7), generator=torch.Generator().manual_seed(0), dtype=D)
    R = M.discounted_returns(rew, 0.9)
    for idx in np.ndindex(2, 3):
        G, out = 0.0, []
        for r in reversed(rew[idx].tolist()):
            G = r + 0.9 * G
            out.insert(0, G)
        torch.testing.assert_close(R[idx], torch.tensor(out, dtype=D))


def test_adaptation_improves_the_inner_objective_and_the_return_on_a_fixed_task():
    env = Nav2D()
    cfg = M.MamlConfig(hidden=(32, 32))
    g = torch.Generator().manual_seed(0)
    theta = M.init_policy(2, 2, cfg.hidden, g)
    goals = torch.tensor([[0.4, -0.3]])
    batch = M.process(M.rollout(env, theta, goals, 50, g), theta, cfg)
    before = float(M.inner_loss(M.expand_tasks(theta, 1), batch)[0])
    after = float(M.inner_loss(M.inner_step(M.expand_tasks(theta, 1), batch, 0.01), batch)[0])
    assert after < before
    curve = M.evaluate_adaptation(theta, env, goals, 100, [0.1] * 4, g, cfg)
    returns = [float(r[0]) for r, _ in curve]
    assert returns[-1] > returns[0] + 5.0


def _with_defaults(p: dict) -> dict:
    """``p`` completed with the ``default:`` values of nav2d_finn's schema (as the config loader does)."""
    from hrlmeta.config import load_schema, schema_defaults
    from hrlmeta.experiments import REGISTRY

    return schema_defaults(p, load_schema("nav2d_finn", REGISTRY))


def test_meta_training_is_deterministic_and_learns():
    from hrlmeta.experiments.nav2d_finn import analysis
    from hrlmeta.experiments.nav2d_finn import training as E

    p = _with_defaults({"env": {"horizon": 30}, "policy": {"hidden": [16, 16]}, "meta": {"n_iterations": 2,
                        "n_tasks": 3, "n_traj": 3}, "eval": {"n_tasks": 2, "n_traj": 3, "step_sizes": [0.1, 0.05]},
                        "cost": {"repeats": 1}})
    a = E.train("maml", [3], p)[0].drop(columns="wall_s")
    b = E.train("maml", [3], p)[0].drop(columns="wall_s")
    pd_testing = pytest.importorskip("pandas.testing")
    pd_testing.assert_frame_equal(a, b)
    assert list(a["phase"]) == ["meta_train"] * 2 + ["adapt_0", "adapt_1", "adapt_2", "cost_w16_maml",
                                                     "cost_w16_fomaml"]
    assert (a["return"].iloc[2:5].diff().iloc[1:] > -50).all()  # finite, sensible held-out returns
    cost = analysis.cost_sweep(E.train("maml", [3], p)[0])
    assert cost["width"].tolist() == [16] and (cost["ratio"] > 0).all()
    r = E.train("random_init", [3], p)[0]
    assert list(r["phase"]) == ["adapt_0", "adapt_1", "adapt_2"]


def test_cuda_request_without_a_gpu_is_a_clear_error():
    from hrlmeta.experiments.nav2d_finn import training as E

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="device.*cuda"):
        E.train("maml", [0], _with_defaults({"device": "cuda"}))


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="inner_lr"):
        M.MamlConfig(inner_lr=-1)
    with pytest.raises(ValueError, match="goal_low"):
        Nav2D(goal_low=1, goal_high=0)


def test_bench_reports_the_contract_fields():
    from hrlmeta.bench import maml as bench

    out = bench.main(["--quick"])
    assert out["device"] == "cpu"
    assert set(out["s_per_meta_iter"]) == {"maml", "fomaml"}
    assert all(v > 0 for v in out["s_per_meta_iter"].values())
    assert {"maml", "fomaml"} <= set(out["peak_mem_mb"])
    assert [r["width"] for r in out["width_sweep"]] == [8, 16]
    if torch.cuda.is_available():  # the GPU path must run and say so
        gpu = bench.main(["--quick", "--device", "cuda"])
        assert gpu["device"] == "cuda" and all(v > 0 for v in gpu["s_per_meta_iter"].values())
    else:  # without a GPU, asking for one is a clear error
        with pytest.raises(SystemExit, match="cuda"):
            bench.main(["--device", "cuda"])
