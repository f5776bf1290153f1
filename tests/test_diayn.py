"""pointmass_diayn: point-mass dynamics by hand, the SAC soft target and losses against hand-computed values,
the DIAYN pseudo-reward for a constructed discriminator, coverage, the held-out classifier, claims on
constructed tables, and determinism of whole runs."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from hrlmeta.algos import diayn as D
from hrlmeta.algos import sac as S
from hrlmeta.envs.pointmass import PointMass, coverage
from hrlmeta import experiments as registry
from hrlmeta.config import load_schema, schema_defaults
from hrlmeta.experiments import REGISTRY
from hrlmeta.experiments.pointmass_diayn import analysis as E
from hrlmeta.experiments.pointmass_diayn import training as TR

# --------------------------------------------------------------------------- environment


def _step(env, pos, act):
    return env.step(torch.tensor([pos], dtype=torch.float64), torch.tensor([act], dtype=torch.float64))[0].tolist()


def test_open_box_moves_and_clips_at_walls():
    env = PointMass(layout="open")
    assert _step(env, (0.2, -0.3), (0.5, -1.0)) == pytest.approx([0.25, -0.4])
    assert _step(env, (0.95, 0.0), (1.0, 0.5)) == pytest.approx([1.0, 0.05])     # clipped at x = 1
    assert _step(env, (-0.97, -0.99), (-1.0, -1.0)) == pytest.approx([-1.0, -1.0])  # corner
    assert _step(env, (0.0, 0.0), (3.0, -7.0)) == pytest.approx([0.1, -0.1])     # actions clamped to [-1, 1]
    assert _step(env, (-0.05, 0.5), (1.0, 0.0)) == pytest.approx([0.05, 0.5])    # no wall in the open box


def test_passage_wall_blocks_outside_the_opening():
    env = PointMass(layout="passage", start=(-0.5, 0.0), wall_x=0.0, gap=0.2)
    # crossing at y = 0.5 (outside |y| <= 0.1): x motion cancelled, y motion kept
    assert _step(env, (-0.05, 0.5), (1.0, 0.0)) == pytest.approx([-0.05, 0.5])
    assert _step(env, (0.05, 0.5), (-1.0, 0.3)) == pytest.approx([0.05, 0.53])   # from the right side too
    # (-0.05, 0) -> (0.05, 0.05) crosses x = 0 halfway, at y = 0.025: inside the opening, passes
    assert _step(env, (-0.05, 0.0), (1.0, 0.5)) == pytest.approx([0.05, 0.05])
    # (-0.05, 0.08) -> (0.05, 0.18) crosses at y = 0.13 > 0.1: blocked although it starts level with the gap
    assert _step(env, (-0.05, 0.08), (1.0, 1.0)) == pytest.approx([-0.05, 0.18])
    # a move that stays on one side is untouched; the wall is exactly at x = 0 (reaching it counts as crossing)
    assert _step(env, (-0.3, 0.7), (1.0, 1.0)) == pytest.approx([-0.2, 0.8])
    assert _step(env, (-0.1, 0.5), (1.0, 0.0)) == pytest.approx([-0.1, 0.5])
    # opening's edge: crossing at |y| = 0.1 exactly passes
    assert _step(env, (-0.05, 0.1), (1.0, 0.0)) == pytest.approx([0.05, 0.1])


def test_env_rejects_bad_parameters():
    with pytest.raises(ValueError, match="env.layout"):
        PointMass(layout="maze")
    with pytest.raises(ValueError, match="env.start"):
        PointMass(start=(2.0, 0.0))
    with pytest.raises(ValueError, match="env.gap"):
        PointMass(layout="passage", start=(-0.5, 0.0), gap=0.0)


def test_coverage_counts_cells_by_hand():
    pos = torch.tensor([[-0.99, -0.99], [-0.95, -0.9], [0.0, 0.0], [0.99, 0.99], [1.0, 1.0], [0.05, -0.05]])
    # cells of 0.2 x 0.2 on [-1, 1]^2: (0, 0) twice, (5, 5), (9, 9) twice (1.0 falls in the last cell), (5, 4)
    assert coverage(pos, 1.0, 10) == pytest.approx(4 / 100)
    assert coverage(pos, 1.0, 1) == 1.0


# --------------------------------------------------------------------------- SAC


def test_soft_target_by_hand():
    r = torch.tensor([1.0, -0.5])
    q_next = torch.tensor([[2.0, 0.3], [1.5, 0.7]])
    logp = torch.tensor([0.2, -1.0])
    y = S.soft_target(r, q_next, logp, gamma=0.9, alpha=0.1)
    # 1 + 0.9 (min(2, 1.5) - 0.1 * 0.2) = 2.332 ; -0.5 + 0.9 (min(0.3, 0.7) + 0.1) = -0.14
    assert y.tolist() == pytest.approx([2.332, -0.14])


def _constant_agent(q1, q2, log_std, act_dim=2, obs_dim=3):
    """A SAC agent whose critics output the constants q1, q2 and whose policy is N(0, e^log_std) before tanh."""
    cfg = S.SACConfig(obs_dim=obs_dim, act_dim=act_dim, hidden=(4,), gamma=0.9, tau=0.5, alpha=0.1)
    agent = S.SAC(cfg, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for p in agent.actor + agent.critic:
            p.zero_()
        agent.actor[-1][act_dim:] = log_std
        agent.critic[-1][0, 0, 0], agent.critic[-1][1, 0, 0] = q1, q2
    agent.target = [p.detach().clone() for p in agent.critic]
    return agent


def _tanh_gauss_logp(eps, std):
    """log-density of a = tanh(std * eps), eps ~ N(0, 1), by the textbook formula."""
    out = 0.0
    for e in eps:
        u = std * e
        out += -0.5 * e * e - math.log(std) - 0.5 * math.log(2 * math.pi) - math.log(1 - math.tanh(u) ** 2)
    return out


def test_sac_losses_by_hand():
    agent = _constant_agent(q1=1.0, q2=3.0, log_std=math.log(0.5))
    obs, next_obs = torch.randn(1, 3), torch.randn(1, 3)
    act, r = torch.tensor([[0.3, -0.2]]), torch.tensor([0.7])
    eps_next, eps_pi = [0.4, -1.2], [0.1, 0.9]
    critic_loss, actor_loss, _ = agent.losses(obs, act, r, next_obs, torch.tensor([eps_next, eps_pi]))
    y = 0.7 + 0.9 * (min(1.0, 3.0) - 0.1 * _tanh_gauss_logp(eps_next, 0.5))
    assert critic_loss.item() == pytest.approx(0.5 * ((1.0 - y) ** 2 + (3.0 - y) ** 2), rel=1e-5)
    assert actor_loss.item() == pytest.approx(0.1 * _tanh_gauss_logp(eps_pi, 0.5) - 1.0, rel=1e-5)


def test_policy_log_density_matches_torch_distributions():
    g = torch.Generator().manual_seed(3)
    actor = [p.detach().double() for p in S.mlp_init([3, 8, 4], g)]  # float64: tanh's inverse is exact enough
    obs, eps = torch.randn(64, 3, generator=g, dtype=torch.float64), torch.randn(64, 2, generator=g,
                                                                                 dtype=torch.float64)
    a, logp = S.policy_sample(actor, obs, eps)
    mean, log_std = S.mlp(actor, obs).chunk(2, -1)
    dist = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(mean, log_std.clamp(S.LOG_STD_MIN, S.LOG_STD_MAX).exp()),
        [torch.distributions.TanhTransform()])
    u = mean + log_std.exp() * eps
    torch.testing.assert_close(a, torch.tanh(u))
    torch.testing.assert_close(logp, dist.log_prob(torch.tanh(u)).sum(-1), rtol=1e-9, atol=1e-9)


def test_twin_critics_are_independent_networks_in_one_call():
    g = torch.Generator().manual_seed(1)
    critic = S.mlp_init([5, 7, 1], g, stack=2)
    obs, act = torch.randn(4, 3), torch.randn(4, 2)
    q = S.q_values(critic, obs, act)
    x = torch.cat([obs, act], -1)
    for i in range(2):
        ref = torch.relu(x @ critic[0][i] + critic[1][i]) @ critic[2][i] + critic[3][i]
        torch.testing.assert_close(q[i], ref.squeeze(-1))


def test_polyak_update():
    agent = _constant_agent(q1=1.0, q2=3.0, log_std=0.0)
    with torch.no_grad():
        agent.critic[-1][0, 0, 0] = 2.0   # target still 1.0; tau = 0.5
    agent.update_target()
    assert float(agent.target[-1][0, 0, 0]) == pytest.approx(1.5)


# --------------------------------------------------------------------------- DIAYN


def test_pseudo_reward_for_a_constructed_discriminator():
    probs = [0.5, 0.3, 0.2]
    disc = S.mlp_init([2, 4, 3], torch.Generator().manual_seed(0))
    with torch.no_grad():
        for p in disc:
            p.zero_()
        disc[-1][:] = torch.log(torch.tensor(probs))
    s2 = torch.randn(3, 2)
    z = torch.tensor([0, 1, 2])
    r = D.pseudo_reward(disc, s2, z, 3)
    # log q(z|s') - log p(z), p(z) = 1/3
    assert r.tolist() == pytest.approx([math.log(p) - math.log(1 / 3) for p in probs], abs=1e-6)


def test_zero_reward_agent_never_uses_the_pseudo_reward(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("pseudo-reward used")

    monkeypatch.setattr(D, "pseudo_reward", boom)
    env = PointMass(horizon=5)
    cfg = dict(num_skills=3, hidden=(8,), min_pool=10, batch_size=8)
    agent = D.Diayn(D.DiaynConfig(reward="zero", **cfg), env, torch.Generator().manual_seed(0))
    before = [p.detach().clone() for p in agent.disc]
    agent.train(30)
    assert agent.updates > 0
    # its discriminator is still trained (its accuracy is measured like DIAYN's)
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.disc))
    with pytest.raises(RuntimeError, match="pseudo-reward used"):
        D.Diayn(D.DiaynConfig(reward="diayn", **cfg), env, torch.Generator().manual_seed(0)).train(30)


def test_fresh_classifier_separates_separable_skills():
    K, per, T = 3, 4, 5
    z = D.eval_skills(K, per)
    centres = torch.tensor([[-0.8, 0.0], [0.8, 0.0], [0.0, 0.8]])
    g = torch.Generator().manual_seed(0)
    states = centres[z].unsqueeze(0).expand(T, -1, -1) + 0.01 * torch.randn(T, K * per, 2, generator=g)
    acc = D.fresh_classifier_accuracy(states, z, K, (16,), 200, 0.05, g)
    assert acc == 1.0


# --------------------------------------------------------------------------- experiment


def _full(params: dict) -> dict:
    """``params`` completed with the schema's defaults, as the config loader hands them to the code."""
    import copy

    return schema_defaults(copy.deepcopy(params), load_schema("pointmass_diayn", REGISTRY))


TINY = _full({
    "env": {"layouts": ["open", "passage"], "horizon": 10, "start": {"open": [0, 0], "passage": [-0.5, 0]}},
    "agent": {"num_skills": 3, "hidden": [8, 8], "total_steps": 200, "min_pool": 50, "batch_size": 16,
              "n_envs": 5, "updates_per_step": 0.5},
    "eval": {"every": 100, "episodes_per_skill": 2, "fresh_classifier": {"steps": 5}},
})


@pytest.fixture(scope="module")
def tiny_runs():
    return {(a, s): TR.train(a, [s], TINY)[0] for a in E.ALGOS for s in (0, 1)}


def test_run_table_is_deterministic_per_seed(tmp_path, tiny_runs):
    from hrlmeta.pipeline import keyed
    from hrlmeta.tidy import write_run

    again = TR.train("diayn", [0], TINY)[0]
    write_run(keyed(tiny_runs[("diayn", 0)], "pointmass_diayn", "diayn", 0), tmp_path / "a.parquet", E.KIND)
    write_run(keyed(again, "pointmass_diayn", "diayn", 0), tmp_path / "b.parquet", E.KIND)   # the caller's keys
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    a, b = tiny_runs[("diayn", 0)], tiny_runs[("diayn", 1)]
    assert not np.array_equal(a["return"].to_numpy(), b["return"].to_numpy())


def test_run_table_layout(tiny_runs):
    df = tiny_runs[("diayn", 0)]
    # 3 evaluation points x 2 modes x 3 skills x 2 episodes, per layout
    assert len(df) == 2 * 3 * 2 * 3 * 2
    assert sorted(df["env_steps"].unique()) == [0, 100, 200]
    fin = E.final_rows(df)
    assert fin["fresh_acc"].notna().all() and df.loc[df["env_steps"] < 200, "fresh_acc"].isna().all()
    assert all(len(x) == 11 for x in fin["traj_x"])  # horizon + 1 positions
    assert (df["steps"] == 10).all() and (df["decisions"] == 1).all()
    # the two algorithms of a seed start from the same networks: identical evaluations at step 0
    r = tiny_runs[("random_skills", 0)]
    cols = ["layout", "eval_mode", "skill", "return", "acc"]
    pd.testing.assert_frame_equal(df[df["env_steps"] == 0][cols].reset_index(drop=True),
                                  r[r["env_steps"] == 0][cols].reset_index(drop=True))


def test_claims_on_tiny_runs(tiny_runs):
    table = pd.concat(list(tiny_runs.values()), ignore_index=True)
    from hrlmeta.claims import ClaimError, measure_claim
    from hrlmeta.experiments.pointmass_diayn.measures import MEASURES

    claim = {"id": "diayn_discriminable", "measure": "discriminable",
             "params": {"measure": "learned", "eval_mode": "stochastic"}}
    s = measure_claim(MEASURES, claim, table, TINY)
    assert s.values.shape == (2, 2) and s.budget == 200
    f = E.final_rows(table)
    f = f[(f["algo"] == "diayn") & (f["eval_mode"] == "stochastic") & (f["seed"] == 0) & (f["layout"] == "open")]
    assert s.values[0, 0] == pytest.approx(f["acc"].mean() - 1 / 3)
    cov = measure_claim(MEASURES, {"id": "diayn_coverage", "measure": "coverage",
                                   "params": {"grid": 10, "eval_mode": "stochastic"}}, table, TINY)
    assert cov.values.shape == (2, 2)
    c = E.final_coverage(table, 10, "stochastic")
    assert cov.values[1, 1] == pytest.approx(c[("diayn", 1, "passage")] - c[("random_skills", 1, "passage")])
    # the coverage column written during training agrees with the one recomputed from the trajectories
    fin = E.final_rows(table)
    col = fin[(fin["algo"] == "diayn") & (fin["seed"] == 1) & (fin["layout"] == "passage")
              & (fin["eval_mode"] == "stochastic")]["coverage"].iloc[0]
    assert col == pytest.approx(c[("diayn", 1, "passage")])
    with pytest.raises(ClaimError, match="'nope'.*unknown measure 'nope'"):
        measure_claim(MEASURES, {"id": "nope", "measure": "nope"}, table, TINY)


def test_config_errors_name_the_key():
    with pytest.raises(ValueError, match="num_skills"):
        D.DiaynConfig(num_skills=1)
    with pytest.raises(ValueError, match="sac.lr"):
        S.SACConfig(obs_dim=2, act_dim=2, lr=2.0)
    with pytest.raises(ValueError, match="params.device"):
        TR.train("diayn", [0], {**TINY, "device": "tpu"})
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            TR.train("diayn", [0], {**TINY, "device": "cuda"})
    assert registry.cost_units("pointmass_diayn", "diayn", TINY) == 200 * 0.5 * 2


def test_bench_reports_its_fields():
    from hrlmeta.bench import diayn as B

    out = B.main(["--repeats", "1", "--envs", "10", "--steps", "1200"])
    assert set(out) >= {"env_steps_per_s", "batched_speedup", "updates_per_s", "training_env_steps_per_s"}
    assert set(out["env_steps_per_s"]) == {"batched", "one_at_a_time"}
    assert out["config"]["training_steps"] == 1200 and out["device"] == "cpu"


def test_the_analysis_steps_numpy_as_training_steps_torch():
    """The torch-free analysis reproduces the environment's torch computations: the same random stream
    (torch.rand of a seeded generator), the same steps through the passage's wall, the same coverage, and the
    random policy's end-state spread of the former torch rollout (torch.cdist; summed differently: 1e-12)."""
    for seed in (0, 3):
        g = torch.Generator().manual_seed(seed)
        want = torch.cat([torch.rand(300, 2, generator=g), torch.rand(7, 2, generator=g)])
        rs = np.random.RandomState(seed)
        got = np.concatenate([E._torch_rand(rs, (300, 2)), E._torch_rand(rs, (7, 2))])
        np.testing.assert_array_equal(got, want.numpy())
    env = PointMass(layout="passage", start=(-0.5, 0.0), horizon=60)
    g = torch.Generator().manual_seed(1)
    rs = np.random.RandomState(1)
    P = env.rollout(lambda pos, t: torch.rand(pos.shape[0], 2, generator=g) * 2 - 1, 500)
    Q = env.rollout(lambda pos, t: E._torch_rand(rs, (pos.shape[0], 2)) * 2 - 1, 500, dtype=np.float32)
    np.testing.assert_array_equal(Q, P.numpy())
    assert (P[-1, :, 0] > 0).any() and (P[-1, :, 0] < 0).any()          # some pass the opening, some do not
    assert coverage(Q, 1.0, 10) == coverage(P, 1.0, 10) > 0.1
    e = P[-1].double()
    old = float(torch.cdist(e, e).sum() / (500 * 499))
    E._random_policy_spread.cache_clear()
    assert E._random_policy_spread(env, 500, 1) == pytest.approx(old, rel=1e-12)
