"""cartpole_meta: the batched CartPole task family against gymnasium, Directed-MAML's pre-step against
finite differences, Directed-MAML with a zero pre-step against MAML, the categorical meta-gradient against
finite differences, the convergence criterion on hand-made tables, and determinism per seed."""

import numpy as np
import pandas as pd
import pytest
import torch
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

from hrlmeta.algos import directed_maml as D
from hrlmeta.algos import maml as M
from hrlmeta.config import load_config
from hrlmeta.envs.cartpole import CartPoleFamily
from hrlmeta.shared import meta_task_family_analysis as A
from hrlmeta.experiments.cartpole_meta import training as X
from hrlmeta.experiments import REGISTRY

F64 = torch.float64


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def smoke_params():
    return load_config(REGISTRY, "config/smoke.yaml")["experiments"]["cartpole_meta"]["params"]


def test_batched_cartpole_equals_gymnasium_transition_by_transition():
    fam = CartPoleFamily(horizon=500)
    gen = torch.Generator().manual_seed(3)
    tasks = fam.sample_tasks(6, gen)
    state = fam.reset((6,), gen)
    rng = np.random.default_rng(0)
    gyms = []
    for i in range(6):
        e = CartPoleEnv()
        e.reset(seed=i)
        e.masscart, e.masspole, e.length = (float(v) for v in tasks[i])
        e.total_mass = e.masspole + e.masscart
        e.polemass_length = e.masspole * e.length
        e.state = state[i].numpy().copy()
        gyms.append(e)
    alive = np.ones(6, bool)
    n_checked = 0
    for t in range(500):
        actions = rng.integers(0, 2, size=6)
        new_state, term = fam.step(state, torch.as_tensor(actions), tasks)
        for i in np.flatnonzero(alive):
            obs, rew, terminated, truncated, _ = gyms[i].step(int(actions[i]))
            assert np.array_equal(gyms[i].state, new_state[i].numpy())  # float64, bit for bit
            assert np.array_equal(obs, new_state[i].to(torch.float32).numpy())
            assert terminated == bool(term[i]) and rew == 1.0 and not truncated
            n_checked += 1
        alive &= ~term.numpy()
        state = new_state
        if not alive.any():
            break
    assert n_checked > 50


def test_task_family_ranges_and_medium():
    fam = CartPoleFamily()
    tasks = fam.sample_tasks(1000, torch.Generator().manual_seed(0))
    assert (tasks >= fam.low).all() and (tasks <= fam.high).all()
    assert torch.allclose(fam.medium_task("mean"), torch.tensor([1.25, 0.125, 0.625], dtype=F64))
    assert torch.allclose(fam.medium_task("geometric_mean"), torch.tensor([1.0, 0.1, 0.5], dtype=F64))
    with pytest.raises(ValueError, match="env.length"):
        CartPoleFamily(length=(1.0, 0.5))


def _tiny(seed=0, hidden=(5,)):
    env = CartPoleFamily(horizon=25)
    cfg = M.MamlConfig(hidden=hidden, n_tasks=3, n_traj=4, inner_lr=0.5)
    g = torch.Generator().manual_seed(seed)
    theta = M.init_policy(4, 2, hidden, g, dtype=F64, distribution="categorical")
    for k in theta:  # non-zero biases: keep the ReLUs away from their kinks for finite differences
        if k.startswith("b"):
            theta[k] = 0.3 * torch.randn(theta[k].shape, generator=g, dtype=F64)
    return env, cfg, theta, g


def _fd_grad(f, theta, eps=1e-6):
    out = {}
    for k, v in theta.items():
        gk = torch.zeros_like(v)
        for idx in np.ndindex(*v.shape):
            plus = {n: w.clone() for n, w in theta.items()}
            minus = {n: w.clone() for n, w in theta.items()}
            plus[k][idx] += eps
            minus[k][idx] -= eps
            gk[idx] = (f(plus) - f(minus)) / (2 * eps)
        out[k] = gk
    return out


def test_pre_step_is_one_first_order_step_on_the_medium_task():
    env, cfg, theta, g = _tiny()
    med = M.process(D.rollout_categorical(env, theta, env.medium_task()[None], 6, g, dtype=F64), theta, cfg)
    assert bool((med.obs[..., :1] != 0).any())
    lr = 0.3
    new = D.directed_pre_step(theta, med, lr)
    grad = _fd_grad(lambda p: float(M.inner_loss(M.expand_tasks(p, 1), med)[0]), theta)
    for k in theta:
        assert new[k].shape == theta[k].shape
        torch.testing.assert_close(new[k], theta[k] - lr * grad[k], rtol=1e-6, atol=1e-8)
    assert any(not torch.equal(new[k], theta[k]) for k in theta)


def test_meta_learner_pre_step_samples_the_medium_task():
    env, cfg, theta, _ = _tiny()
    dcfg = D.DirectedConfig(pre_lr=0.2, pre_n_traj=5)
    L = D.MetaLearner("directed_maml", theta, env, cfg, dcfg, torch.Generator().manual_seed(1),
                      torch.Generator().manual_seed(2))
    before = M.detach({k: v.clone() for k, v in L.theta.items()})
    st = L.pre_step()
    med = L.sample(before, env.medium_task()[None], 5, torch.Generator().manual_seed(2))
    expected = D.directed_pre_step(before, med, 0.2)
    for k in theta:
        torch.testing.assert_close(L.theta[k].detach(), expected[k], rtol=0, atol=0)
    assert st["env_steps"] == int(med.mask.sum())


def test_zero_pre_step_directed_maml_equals_maml():
    env, cfg, theta, _ = _tiny()
    runs = {}
    for algo in ("maml", "directed_maml"):
        L = D.MetaLearner(algo, theta, env, cfg, D.DirectedConfig(pre_lr=0.0, outer_lr=0.05),
                          torch.Generator().manual_seed(7), torch.Generator().manual_seed(8))
        stats = [L.step() for _ in range(3)]
        runs[algo] = (M.detach(L.theta), [s["return_post"] for s in stats], [s["loss"] for s in stats])
    for k in theta:
        assert torch.equal(runs["maml"][0][k], runs["directed_maml"][0][k])
    assert runs["maml"][1:] == runs["directed_maml"][1:]
    # and a non-zero pre-step does change the outcome
    L = D.MetaLearner("directed_maml", theta, env, cfg, D.DirectedConfig(pre_lr=0.1, outer_lr=0.05),
                      torch.Generator().manual_seed(7), torch.Generator().manual_seed(8))
    for _ in range(3):
        L.step()
    assert any(not torch.equal(runs["maml"][0][k], L.theta[k].detach()) for k in theta)


@pytest.mark.parametrize("second_order", [True, False])
def test_categorical_meta_gradient_matches_finite_differences(second_order):
    env, cfg, theta, g = _tiny(hidden=(4,))
    tasks = env.sample_tasks(cfg.n_tasks, g)
    pre = M.process(D.rollout_categorical(env, theta, tasks, cfg.n_traj, g, dtype=F64), theta, cfg)
    phi = M.inner_step(M.expand_tasks(theta, cfg.n_tasks), pre, cfg.inner_lr)
    post = M.process(D.rollout_categorical(env, phi, tasks, cfg.n_traj, g, dtype=F64), phi, cfg)
    leaf = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
    grads = torch.autograd.grad(M.pg_meta_loss(leaf, pre, post, cfg.inner_lr, second_order), list(leaf.values()))
    def meta_loss(p):  # adapt() differentiates the inner loss w.r.t. the parameters: leaves needed
        return float(M.pg_meta_loss({k: v.requires_grad_(True) for k, v in p.items()}, pre, post, cfg.inner_lr,
                                    True).detach())

    exact = _fd_grad(meta_loss, theta)
    auto = dict(zip(theta, grads))
    err = max(float((auto[k] - exact[k]).abs().max()) for k in theta)
    if second_order:
        assert err < 1e-6
    else:  # FOMAML drops the -alpha * Hessian term: measurably different from the true meta-gradient
        assert err > 1e-4


def test_convergence_criterion_and_reduction_by_hand():
    rows = []
    curves = {"maml": [10, 100, 180, 190, 200, 200], "directed_maml": [10, 180, 190, 200, 200, 200],
              "fomaml": [10, 20, 30, 40, 50, 60]}
    for algo, c in curves.items():
        for seed in (0, 1):
            for it, r in enumerate(c):
                rows.append({"algo": algo, "seed": seed, "iteration": it, "phase": "meta_train", "return": r,
                             "env_steps": 100, "wall_s": 1.0})
    table = pd.DataFrame(rows)
    ct = A.convergence_table(table, 175.0, 1).set_index(["algo", "seed"])
    assert ct.loc[("maml", 0), "iters"] == 3 and ct.loc[("directed_maml", 0), "iters"] == 2
    assert bool(ct.loc[("fomaml", 0), "censored"]) and ct.loc[("fomaml", 0), "iters"] == 6
    assert ct.loc[("maml", 1), "env_steps"] == 300
    from hrlmeta.claims import measure_claim
    from hrlmeta.experiments.cartpole_meta.measures import MEASURES

    claim = {"id": "directed_maml_convergence_cartpole", "measure": "reduction",
             "params": {"quantity": "iters", "baseline": "maml", "agent": "directed_maml",
                        "criterion": {"threshold": 175, "window": 1}}}
    s = measure_claim(MEASURES, claim, table, {})
    np.testing.assert_allclose(s.values, [1 - 2 / 3, 1 - 2 / 3])
    claim["params"]["criterion"]["window"] = 2  # trailing means: maml 55,140,185,195,.. -> 4; directed 95,185 -> 3
    np.testing.assert_allclose(measure_claim(MEASURES, claim, table, {}).values, [0.25, 0.25])


def test_train_is_deterministic_per_seed_and_has_the_schema():
    params = smoke_params()
    a = X.train("directed_maml", [1], params)[0]
    b = X.train("directed_maml", [1], params)[0]
    pd.testing.assert_frame_equal(a.drop(columns="wall_s"), b.drop(columns="wall_s"))
    c = X.train("directed_maml", [2], params)[0]
    assert not a.drop(columns="wall_s").equals(c.drop(columns="wall_s"))
    assert set(a["phase"]) >= {"meta_train", "adapt_0", "adapt_1"}
    assert a.loc[a["phase"] == "meta_train", "return_medium"].notna().all()
    r = X.train("random_init", [1], params)[0]
    assert set(r["phase"]) == {"adapt_0", "adapt_1"}


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="directed.pre_lr"):
        D.DirectedConfig(pre_lr=-0.1)
    with pytest.raises(ValueError, match="directed.medium"):
        D.DirectedConfig(medium="median")
    with pytest.raises(ValueError, match="meta.outer_lr"):
        D.DirectedConfig(outer_lr=0.0)


def test_lunarlander_family_sets_the_task_and_is_seeded():
    from hrlmeta.envs.lunarlander import LunarLanderFamily

    fam = LunarLanderFamily(horizon=15)
    g = torch.Generator().manual_seed(0)
    tasks = fam.sample_tasks(2, g)
    assert ((tasks[:, 0] > -11.0) & (tasks[:, 0] < -5.0)).all() and ((tasks[:, 1] >= 0) & (tasks[:, 1] <= 20)).all()
    theta = M.init_policy(8, 4, (6,), g, distribution="categorical")
    a = D.rollout_categorical(fam, theta, tasks, 3, torch.Generator().manual_seed(5))
    sim = fam.start(tasks, 3, torch.Generator().manual_seed(9))
    assert [e.gravity for e in sim.envs] == [float(tasks[0, 0])] * 3 + [float(tasks[1, 0])] * 3
    assert all(e.enable_wind for e in sim.envs) and sim.envs[4].wind_power == float(tasks[1, 1])
    assert sim.envs[4].world.gravity[1] == pytest.approx(float(tasks[1, 0]))
    b = D.rollout_categorical(fam, theta, tasks, 3, torch.Generator().manual_seed(5))
    assert torch.equal(a.obs, b.obs) and torch.equal(a.rew, b.rew) and torch.equal(a.act, b.act)
    assert a.rew.abs().sum() > 0
    torch.testing.assert_close(fam.medium_task(), torch.tensor([-8.0, 10.0], dtype=F64))
