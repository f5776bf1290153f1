"""Learner check of h-DQN's Q-network learner (learner_checks: dqn_frozenlake, dqn_cartpole): the exact
FrozenLake optimum, the check's tables, and that the check trains with the very pieces h-DQN trains with."""

import numpy as np
import pandas as pd
import pytest
import torch

from hrlmeta.algos import hdqn
from hrlmeta.experiments.learner_checks import check_dqn as C

FL = dict(total_steps=300, eval_every=100, eval_episodes=0, hidden=32, lr=2.5e-4, gamma=0.99, batch_size=32,
          buffer_size=1000000, learning_starts=32, train_freq=1, gradient_steps=1, target_update=1,
          clip_delta=None, eps_start=1.0, eps_end=0.1, anneal_steps=50000)
CP = dict(total_steps=600, eval_every=300, eval_episodes=2, hidden=256, lr=2.3e-3, gamma=0.99, batch_size=64,
          buffer_size=100000, learning_starts=100, train_freq=64, gradient_steps=8, target_update=10,
          clip_delta=1.0, eps_start=1.0, eps_end=0.04, anneal_steps=400)
BLOCKS = {"dqn_frozenlake": FL, "dqn_cartpole": CP}


def _content(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in df.columns if c == "wall_s" or c.endswith("_s")])


# ------------------------------------------------------------------------------------- FrozenLake optimum


def test_frozenlake_optimum_from_gymnasiums_own_table():
    import gymnasium as gym

    opt = C.frozenlake_optimum()
    assert opt["horizon"] == 100
    assert opt["success"] == pytest.approx(0.740165, abs=1e-6)     # within the registered 100-step limit
    assert opt["unlimited"] == pytest.approx(14 / 17, abs=1e-9)    # 0.823529 without a step limit
    threshold = gym.spec("FrozenLake-v1").reward_threshold
    assert threshold == pytest.approx(0.70) and threshold < opt["success"]
    env = C.make_env("dqn_frozenlake")
    T, R, term = C.transition_table(env)
    # the learner's gamma 0.99 has the same optimal policy as gamma -> 1
    assert (C.value_iteration(T, R, term, 0.99).argmax(1) == opt["policy"]).all()
    # no stationary policy does better: the finite-horizon optimum (non-stationary) bounds it from above
    V = np.zeros(16)
    for _ in range(100):
        V = (R + T @ np.where(term, 0.0, V)).max(1)
    assert opt["success"] <= V[0] < opt["success"] + 0.005
    # the claim's pass range is posed from the optimum
    from hrlmeta.config import load_yaml
    from pathlib import Path

    path = Path(C.__file__).with_name("claims.yaml")
    if path.exists():
        claims = {c["id"]: c for c in load_yaml(path)["claims"]}
        if "learner_dqn_frozenlake" in claims:
            lo, hi = claims["learner_dqn_frozenlake"]["expected_range"]
            assert lo == pytest.approx(0.95 * opt["success"], abs=1e-4) and opt["success"] <= hi < opt["success"] + 1e-4


def test_exact_evaluation_agrees_with_episodes():
    """The exact success probability of a policy (policy evaluation on P, 100-step limit) agrees with the
    mean of 4000 seeded gymnasium episodes."""
    opt = C.frozenlake_optimum()
    env = C.make_env("dqn_frozenlake")
    rng = np.random.default_rng(0)
    wins = []
    for _ in range(4000):
        s, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
        over, r = False, 0.0
        while not over:
            s, r, term, trunc, _ = env.step(int(opt["policy"][s]))
            over = term or trunc
        wins.append(r)
    se = np.sqrt(opt["success"] * (1 - opt["success"]) / len(wins))
    assert abs(np.mean(wins) - opt["success"]) < 4 * se


# ------------------------------------------------------------------------------------------ the network


@pytest.mark.parametrize("clip", [None, 0.05])
def test_dense_input_gradients_match_autograd(clip):
    S, B, n_in, H, A = 3, 7, 4, 8, 2
    n = hdqn.OneHotMLP.size(n_in, H, A)
    theta, grad = torch.zeros(S, n, dtype=torch.float64), torch.zeros(S, n, dtype=torch.float64)
    gens = [torch.Generator().manual_seed(k) for k in range(S)]
    net = hdqn.OneHotMLPSeeds(theta, grad, 0, n_in, H, A, gens)
    g = torch.Generator().manual_seed(9)
    x = torch.randn(S, B, n_in, generator=g, dtype=torch.float64)
    a = torch.randint(0, A, (S, B), generator=g)
    y = torch.randn(S, B, generator=g, dtype=torch.float64)
    q, pre = net.forward(x)
    net.td_backward(x, q, pre, a, y, clip)
    for k in range(S):
        th = theta[k].clone().requires_grad_(True)
        W1, b1 = th[:n_in * H].view(n_in, H), th[n_in * H:n_in * H + H]
        W2, b2 = th[n_in * H + H:n_in * H + H + H * A].view(H, A), th[n_in * H + H + H * A:]
        qa = (torch.relu(x[k] @ W1 + b1) @ W2 + b2).gather(1, a[k][:, None])[:, 0]
        err = qa - y[k]
        if clip is None:
            loss = (err ** 2).mean()
        else:  # 2 x Huber with threshold clip: gradient 2 clip(err) / B
            loss = 2 * torch.nn.functional.huber_loss(qa, y[k], delta=clip, reduction="mean")
        loss.backward()
        assert torch.allclose(grad[k], th.grad, atol=1e-12)
        assert np.allclose(net.q_np(k, x[k, 0].numpy()), q[k, 0].numpy())
    if clip is not None:
        assert (q.gather(2, a[..., None])[..., 0] - y).abs().max() > clip  # the clip binds


def test_one_hot_is_the_dense_special_case():
    S, B, n_in, H, A = 2, 5, 12, 8, 3
    n = hdqn.OneHotMLP.size(n_in, H, A)
    theta = torch.zeros(S, n, dtype=torch.float64)
    g1, g2 = torch.zeros_like(theta), torch.zeros_like(theta)
    hdqn.OneHotMLPSeeds(theta, g1, 0, n_in, H, A, [torch.Generator().manual_seed(k) for k in range(S)])
    n1, n2 = hdqn.OneHotMLPSeeds(theta, g1, 0, n_in, H, A), hdqn.OneHotMLPSeeds(theta, g2, 0, n_in, H, A)
    gen = torch.Generator().manual_seed(3)
    idx = torch.randint(0, n_in, (S, B, 2), generator=gen)
    dense = torch.zeros(S, B, n_in, dtype=torch.float64).scatter_add_(2, idx, torch.ones(S, B, 2, dtype=torch.float64))
    a, y = torch.randint(0, A, (S, B), generator=gen), torch.randn(S, B, generator=gen, dtype=torch.float64)
    (q1, p1), (q2, p2) = n1.forward(idx), n2.forward(dense)
    assert torch.allclose(q1, q2, atol=1e-12)
    n1.td_backward(idx, q1, p1, a, y)
    n2.td_backward(dense, q2, p2, a, y)
    assert torch.allclose(g1, g2, atol=1e-12)
    assert np.allclose(n1.q_np(0, tuple(int(i) for i in idx[0, 0])), n2.q_np(0, dense[0, 0].numpy()))
    # the single-network class: dense input = its one-hot rows, and = the seed-batched network's row 0
    th1, gr1, gr2 = theta[0].clone(), torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
    o1, o2 = hdqn.OneHotMLP(th1, gr1, 0, n_in, H, A), hdqn.OneHotMLP(th1, gr2, 0, n_in, H, A)
    (r1, s1), (r2, s2) = o1.forward((idx[0, :, 0], idx[0, :, 1])), o2.forward(dense[0])
    assert torch.allclose(r1, r2, atol=1e-12) and torch.allclose(r2, q2[0], atol=1e-12)
    o1.td_backward((idx[0, :, 0], idx[0, :, 1]), r1, s1, a[0], y[0])
    o2.td_backward(dense[0], r2, s2, a[0], y[0])
    assert torch.allclose(gr1, gr2, atol=1e-12) and torch.allclose(gr2, g2[0], atol=1e-12)


# ------------------------------------------------------------------------------------------ the check


@pytest.mark.parametrize("algo", ["dqn_frozenlake", "dqn_cartpole"])
def test_tables_are_deterministic_and_well_formed(algo):
    block = BLOCKS[algo]
    a = C.train_batch(algo, [0, 1], block)
    b = C.train_batch(algo, [0, 1], block)
    alone = C.train_batch(algo, [1], block)
    assert len(a) == 2
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(_content(x), _content(y))
    pd.testing.assert_frame_equal(_content(a[1]), _content(alone[0]))  # a seed's run is the same alone
    assert not _content(a[0]).equals(_content(a[1]))
    df = a[0]
    for col, kind in (("iteration", "i"), ("env_steps", "i"), ("return", "f"), ("wall_s", "f")):
        assert df[col].dtype.kind == kind, col
    assert list(df["iteration"]) == list(range(len(df)))
    assert list(df["env_steps"]) == list(range(0, block["total_steps"] + 1, block["eval_every"]))
    assert (df["phase"] == "eval").all()
    assert set(df["env"]) == {C.ENVS[algo][0]}
    if algo == "dqn_frozenlake":
        assert ((df["return"] >= 0) & (df["return"] <= C.frozenlake_optimum()["success"] + 1e-12)).all()
    else:
        assert ((df["return"] >= 1) & (df["return"] <= 500)).all()


def test_the_check_and_h_dqn_train_with_the_same_pieces(monkeypatch):
    """One code path: chain_hdqn's h-DQN (both levels) and the check call the same td_step on the same
    network class and take the same Adam step; the check's dense and one-hot inputs go through it."""
    calls = []
    real_step, real_adam = hdqn.td_step, hdqn.Adam.step

    def spy(net, net_t, x, *args, **kw):
        calls.append((type(net), x.dtype, net_t is None))
        return real_step(net, net_t, x, *args, **kw)

    adam_steps = []

    def adam_spy(self, grad):
        adam_steps.append(grad.shape)
        return real_adam(self, grad)

    monkeypatch.setattr(hdqn, "td_step", spy)
    monkeypatch.setattr(hdqn.Adam, "step", adam_spy)
    hdqn.train_seeds(hdqn.HDQNConfig(n_episodes=30), [0, 1])
    chain = list(calls)
    assert chain and {c[0] for c in chain} == {hdqn.OneHotMLPSeeds} and {c[1] for c in chain} == {torch.int64}
    n_chain_adam = len(adam_steps)
    assert n_chain_adam > 0
    calls.clear()
    C.train_batch("dqn_frozenlake", [0, 1], {**FL, "total_steps": 60, "eval_every": 60})
    C.train_batch("dqn_cartpole", [0, 1], {**CP, "total_steps": 128, "eval_every": 128, "learning_starts": 64})
    assert {c[0] for c in calls} == {hdqn.OneHotMLPSeeds}
    assert {c[1] for c in calls} == {torch.int64, torch.float32}           # one-hot and dense inputs
    assert {c[2] for c in calls} == {True, False}                          # stop-gradient and frozen targets
    assert len(adam_steps) - n_chain_adam == len(calls)


def test_clip_delta_off_keeps_h_dqn_unchanged():
    """h-DQN's default (clip_delta None) and a clip that never binds give bit-identical runs."""
    cfg = hdqn.HDQNConfig(n_episodes=30)
    a = hdqn.train_seeds(cfg, [3], snapshots=[30])[0]
    b = hdqn.train_seeds(hdqn.HDQNConfig(n_episodes=30, clip_delta=1e9), [3], snapshots=[30])[0]
    assert np.array_equal(a["Q1_snapshots"], b["Q1_snapshots"]) and np.array_equal(a["Q2_snapshots"], b["Q2_snapshots"])
    with pytest.raises(ValueError, match="clip_delta"):
        hdqn.HDQNConfig(n_episodes=1, clip_delta=0.0).check()


# (the golden tables of this learner's users are checked by
# tests/test_golden.py::test_golden_runs_reproduce_the_committed_hashes, which trains every golden run)


# ------------------------------------------------------------------------------------------ the claims


def _claims(path=None) -> dict:
    """The declared claims learner_dqn_* of learner_checks (skips until they are in its claims.yaml)."""
    from pathlib import Path

    from hrlmeta import claims as K

    path = Path(path) if path else Path(C.__file__).with_name("claims.yaml")
    if not path.exists():
        pytest.skip("learner_checks has no claims.yaml")
    found = {c["id"]: c for c in K.load_claims(path, "learner_checks") if c["id"].startswith("learner_dqn_")}
    if set(found) != {"learner_dqn_frozenlake", "learner_dqn_cartpole"}:
        pytest.skip("the learner_dqn_* claims are not declared yet")
    return found


def _eval_table(algo: str, finals: list[float], before: float) -> pd.DataFrame:
    rows = [pd.DataFrame({"algo": algo, "phase": "eval", "seed": s, "iteration": [0, 1, 2],
                          "env_steps": [0, 5000, 10000], "return": [0.0, before, f]}) for s, f in enumerate(finals)]
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("claim_id, hold, fail", [
    # FrozenLake: every seed at the optimum 0.740165 (or within 5% of it) vs. seeds stuck at sub-optimal policies
    ("learner_dqn_frozenlake", [0.740165, 0.740165, 0.729766, 0.740165, 0.740165], [0.65, 0.55, 0.6, 0.49, 0.66]),
    # CartPole: every seed at or near the cap vs. seeds far below gymnasium's 475
    ("learner_dqn_cartpole", [500.0, 500.0, 490.0, 500.0, 500.0], [200.0, 150.0, 300.0, 250.0, 180.0]),
])
def test_declared_claims_hold_and_fail_on_constructed_tables(claim_id, hold, fail, claims_path=None):
    from hrlmeta import claims as K
    from hrlmeta.experiments import REGISTRY

    claim = _claims(claims_path)[claim_id]
    algo = claim["params"]["algo"]
    measures = REGISTRY.measures("learner_checks")
    verdicts = {}
    for name, finals in (("hold", hold), ("fail", fail)):
        samples = K.measure_claim(measures, claim, _eval_table(algo, finals, before=finals[0] / 4), {})
        assert samples.values.shape == (5,) and np.allclose(np.sort(samples.values), np.sort(finals))
        verdicts[name] = K.decide(claim, samples, reps=500, confidence=0.95, seed=1)["verdict"]
    assert verdicts == {"hold": "holds", "fail": "fails"}
