"""The chapter's MAML listing, ported as written (src/hrlmeta/algos/listing_maml.py), and its audit
(src/hrlmeta/experiments/nav2d_seedblog/training.py)."""

import numpy as np
import pandas as pd
import pytest
import torch

from hrlmeta.algos import listing_maml as S
from hrlmeta.config import load_schema, schema_defaults
from hrlmeta.experiments import REGISTRY
from hrlmeta.experiments.nav2d_seedblog import training as E


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as every training job of the workflow (small ops are slow with a pool)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _maml(cls=S.MAML, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return cls(S.make_policy(seed, gen))


def test_listing_loss_is_the_product_of_means_because_of_broadcasting():
    maml = _maml()
    env = S.Navigation2DEnv(goal=(6.0, -4.0))
    states, actions, rewards, log_probs = maml.collect_trajectory(env, maml.policy)
    loss = maml.compute_loss(states, actions, rewards, log_probs)
    returns, G = [], 0.0
    for r in reversed(rewards):
        G = r + 0.99 * G
        returns.insert(0, G)
    R = torch.tensor(returns, dtype=torch.float32)
    Rn = (R - R.mean()) / (R.std() + 1e-8)
    lp = torch.stack(log_probs).reshape(-1)
    intended = -(lp * Rn).mean()
    # mean over the (T, T) outer product = mean(log_probs) * mean(normalised returns) = rounding noise
    assert abs(float(loss)) < 1e-5 * abs(float(intended))
    assert abs(float(Rn.mean())) < 1e-6
    g_listing = torch.autograd.grad(loss, list(maml.policy.parameters()), retain_graph=True)
    g_intended = torch.autograd.grad(intended, list(maml.policy.parameters()))
    n1 = torch.cat([g.reshape(-1) for g in g_listing]).norm()
    n2 = torch.cat([g.reshape(-1) for g in g_intended]).norm()
    assert float(n1) < 1e-4 * float(n2)  # the as-written gradient is float32 rounding noise


def test_outer_loop_meta_gradient_is_first_order():
    """With the loss fixed, outer_loop's param.grad equals the FOMAML gradient and not the MAML one."""
    maml = _maml(E.LossFixMAML, seed=1)
    rng = np.random.default_rng(0)
    batch = [S.Navigation2DEnv.sample_task(rng) for _ in range(3)]
    _, audit, records, _ = E.audit_outer_loop(maml, batch)
    assert len(records) == 6
    assert audit["relerr_fomaml"] < 1e-4
    assert audit["cos_listing_fomaml"] > 0.99999
    assert audit["norm_second_order_term"] > 1e-3 * audit["norm_maml"]
    assert audit["cos_listing_maml"] < 0.9999


def test_port_keeps_global_rng_untouched_and_is_deterministic():
    state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    p = schema_defaults({"n_iterations": 2, "task_batch_size": 2, "audit_every": 1, "eval": {"n_tasks": 2}},
                        load_schema("nav2d_seedblog", REGISTRY))
    a = E.train("maml_as_written", [4], p)[0].drop(columns="wall_s")
    b = E.train("maml_as_written", [4], p)[0].drop(columns="wall_s")
    pd.testing.assert_frame_equal(a, b)
    assert torch.equal(state, torch.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])
    assert list(a["phase"]) == ["meta_train"] * 2 + [f"adapt_{k}" for k in range(6)]
    assert a["audited"].tolist()[:2] == [True, True]


def test_one_step_trajectory_makes_the_listing_nan_and_is_counted():
    maml = _maml()
    env = S.Navigation2DEnv(goal=(0.0, 0.0))  # done after the first step (dist < 0.5 is likely)
    gen = torch.Generator().manual_seed(3)
    maml.policy.generator = gen
    # force a one-step episode: a goal at the first position the policy will reach
    with torch.no_grad():
        for p in maml.policy.parameters():
            p.zero_()
    states, actions, rewards, log_probs = maml.collect_trajectory(env, maml.policy)
    if len(rewards) == 1:
        loss = maml.compute_loss(states, actions, rewards, log_probs)
        assert torch.isnan(loss)
    from hrlmeta.claims import measure_claim
    from hrlmeta.experiments.nav2d_seedblog.measures import MEASURES

    claim = {"id": "maml_adaptation_gain_seedblog", "measure": "adaptation_gain", "params": {"algo": "maml_as_written"}}
    table = pd.DataFrame({"algo": ["maml_as_written"] * 2, "seed": [0, 0], "phase": ["adapt_0", "adapt_5"],
                          "return": [-100.0, -90.0], "eval_tasks_failed": [1, 1]})
    s = measure_claim(MEASURES, claim, table, {})
    assert s.values.tolist() == [10.0]
