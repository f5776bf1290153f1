"""Seeds trained as one batch: a seed's run does not depend on which seeds share its batch (bit-identical
tables alone and inside a batch), one batched gradient step equals the per-seed step, and the CLI writes
one table per seed."""

import copy
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from hrlmeta.config import experiment_params, load_config, load_schema, schema_defaults
from hrlmeta.experiments import REGISTRY


@pytest.fixture(scope="module")
def smoke():
    return load_config(REGISTRY, "config/smoke.yaml")


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True)


# --------------------------------------------------------------------------- SAC (DIAYN)

# completed with its schema's defaults, as the config loader completes an experiment's params
TINY_DIAYN = schema_defaults({
    "env": {"layouts": ["open", "passage"], "horizon": 10, "start": {"open": [0, 0], "passage": [-0.5, 0]}},
    "agent": {"num_skills": 3, "hidden": [8, 8], "total_steps": 200, "min_pool": 50, "batch_size": 16,
              "n_envs": 5, "updates_per_step": 0.5},
    "eval": {"every": 100, "episodes_per_skill": 2, "fresh_classifier": {"steps": 5}},
}, load_schema("pointmass_diayn", REGISTRY))


@pytest.mark.parametrize("algo", ["diayn", "random_skills"])
def test_diayn_seed_alone_equals_seed_in_a_batch(algo):
    from hrlmeta.experiments.pointmass_diayn import training as E

    alone = E.train(algo, [2], TINY_DIAYN)[0]
    batch = E.train(algo, [5, 2, 7, 0, 3], TINY_DIAYN)
    assert len(batch) == 5 and [int(df["seed"].iloc[0]) for df in batch] == [5, 2, 7, 0, 3]
    _same(alone, batch[1])
    assert not np.array_equal(batch[0]["return"].to_numpy(), batch[1]["return"].to_numpy())


def test_diayn_batched_update_equals_the_per_seed_update():
    """One DiaynSeeds step of 3 seeds vs the unbatched Diayn agent's step for each seed, on the same replay
    contents and the same generators (same minibatch, same noise): parameters agree to float rounding."""
    from hrlmeta.algos import diayn as D
    from hrlmeta.envs.pointmass import PointMass

    env = PointMass(horizon=10)
    cfg = D.DiaynConfig(num_skills=4, hidden=(16, 16), batch_size=32, min_pool=1, n_envs=4)
    seeds = [3, 1, 4]
    batch = D.DiaynSeeds(cfg, env, [torch.Generator().manual_seed(s) for s in seeds])
    data = torch.Generator().manual_seed(99)
    n = 200
    s = torch.rand((len(seeds), n, 2), generator=data) * 2 - 1
    a = torch.rand((len(seeds), n, 2), generator=data) * 2 - 1
    s2 = (s + 0.1 * a).clamp(-1, 1)
    z = torch.randint(0, 4, (len(seeds), n), generator=data)
    batch._add(s, z, a, s2)
    batch.update()
    for k, seed in enumerate(seeds):
        one = D.Diayn(cfg, env, torch.Generator().manual_seed(seed))
        one.replay.add(s[k], z[k], a[k], s2[k])
        one.update()
        ours = [p[k] for p in batch.sac.actor] + [p[2 * k:2 * k + 2] for p in batch.sac.critic] + \
               [p[k] for p in batch.disc]
        ref = one.sac.actor + one.sac.critic + one.disc
        for x, y in zip(ours, ref):
            torch.testing.assert_close(x.detach().reshape(y.shape), y.detach(), rtol=0, atol=1e-6)


def test_diayn_zero_reward_batch_never_reads_the_discriminator_reward():
    """random_skills trains on reward 0: changing the discriminator's output layer cannot change the
    critics' first step (only through the reward could it)."""
    from hrlmeta.algos import diayn as D
    from hrlmeta.envs.pointmass import PointMass

    env = PointMass(horizon=10)
    cfg = D.DiaynConfig(num_skills=3, hidden=(8,), batch_size=8, min_pool=1, n_envs=2, reward="zero")
    critics = []
    for shift in (0.0, 5.0):
        b = D.DiaynSeeds(cfg, env, [torch.Generator().manual_seed(0)])
        with torch.no_grad():
            b.disc[-1].add_(shift)
        g = torch.Generator().manual_seed(1)
        s = torch.rand((1, 50, 2), generator=g)
        b._add(s, torch.randint(0, 3, (1, 50), generator=g), torch.rand((1, 50, 2), generator=g), s)
        b.update()
        critics.append([p.detach().clone() for p in b.sac.critic])
    for x, y in zip(*critics):
        assert torch.equal(x, y)


# --------------------------------------------------------------------------- DQN (h-DQN)


def test_hdqn_seed_alone_equals_seed_in_a_batch(smoke):
    from hrlmeta.experiments.chain_hdqn import training as E

    params = copy.deepcopy(experiment_params(smoke, "chain_hdqn"))
    params["n_episodes"], params["eval_every"], params["final_episodes"] = 150, 50, 50
    alone = E.train("hdqn", [2], params)[0]
    batch = E.train("hdqn", [4, 2, 9, 0, 1, 6], params)
    _same(alone, batch[1])
    assert len(batch) == 6
    assert not batch[0]["steps"].equals(batch[1]["steps"])


def test_hdqn_frozen_target_seed_alone_equals_seed_in_a_batch():
    from hrlmeta.algos import hdqn

    cfg = hdqn.HDQNConfig(n_episodes=80, anneal_steps=300, target_update=7)
    alone = hdqn.train(cfg, 11, snapshots=[40, 80])
    batch = hdqn.train_seeds(cfg, [5, 11, 2], snapshots=[40, 80])
    for key in ("steps", "return", "Q1_snapshots", "Q2_snapshots"):
        assert np.array_equal(alone[key], batch[1][key]), key


def test_hdqn_batched_step_equals_the_per_seed_step():
    """Gradients and Adam step of OneHotMLPSeeds on a fixed minibatch per seed vs OneHotMLP per seed."""
    from hrlmeta.algos import hdqn

    K, n_in, H, A, B = 3, 12, 8, 2, 16
    n = hdqn.OneHotMLP.size(n_in, H, A)
    gens = [torch.Generator().manual_seed(s) for s in (7, 8, 9)]
    theta, grad = torch.zeros(K, 128), torch.zeros(K, 128)
    net = hdqn.OneHotMLPSeeds(theta, grad, 0, n_in, H, A, gens)
    g = torch.Generator().manual_seed(0)
    s, gg = torch.randint(0, 6, (K, B), generator=g), torch.randint(6, 12, (K, B), generator=g)
    a, y = torch.randint(0, A, (K, B), generator=g), torch.randn(K, B, generator=g)
    idx = torch.stack([s, gg], dim=2)
    q, pre = net.forward(idx)
    net.td_backward(idx, q, pre, a, y)
    opt = hdqn.Adam(theta, 1e-2)
    opt.step(grad)
    for k, seed in enumerate((7, 8, 9)):
        th1, gr1 = torch.zeros(n), torch.zeros(n)
        one = hdqn.OneHotMLP(th1, gr1, 0, n_in, H, A, torch.Generator().manual_seed(seed))
        q1, pre1 = one.forward((s[k], gg[k]))
        torch.testing.assert_close(q[k], q1, rtol=0, atol=1e-6)
        one.td_backward((s[k], gg[k]), q1, pre1, a[k], y[k])
        torch.testing.assert_close(grad[k, :n], gr1, rtol=0, atol=1e-6)
        hdqn.Adam(th1, 1e-2).step(gr1)
        torch.testing.assert_close(theta[k, :n], th1, rtol=0, atol=1e-6)
    assert torch.equal(theta[:, n:], torch.zeros(K, 128 - n))  # the padding never moves


# --------------------------------------------------------------------------- CLI and pipeline


def test_cli_several_seeds_writes_one_file_per_seed(tmp_path):
    from hrlmeta.experiments.pointmass_diayn import training as E

    out = tmp_path / "seed{seed}.parquet"
    # the experiment's params block as the workflow hands it over (tiny sizes: seconds)
    r = subprocess.run([sys.executable, "-m", "hrlmeta", "train", "--experiment", "pointmass_diayn", "--algo",
                        "diayn", "--seed", "3", "1", "--out", str(out), "--params-json", json.dumps(TINY_DIAYN)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed1.parquet", "seed3.parquet"]
    for seed in (1, 3):
        assert set(pd.read_parquet(tmp_path / f"seed{seed}.parquet")["seed"]) == {seed}
    # the batch's seed-1 table is seed 1's run alone
    assert pd.read_parquet(tmp_path / "seed1.parquet")["return"].tolist() == \
        E.train("diayn", [1], TINY_DIAYN)[0]["return"].tolist()
    # one CPU-time line per seed (hrlmeta plan --calibrate reads them)
    assert r.stdout.count("CPU-s") == 2


def test_train_seeds_rejects_repeated_seeds(tmp_path):
    from hrlmeta import pipeline

    with pytest.raises(ValueError, match="repeated seed"):
        pipeline.train_seeds("pointmass_diayn", "diayn", [1, 1], TINY_DIAYN, str(tmp_path / "s{seed}.parquet"), REGISTRY)


def test_bench_batched_reports_its_fields():
    from hrlmeta.bench import batched as B

    out = B.main(["--learners", "dqn", "--sizes", "1,2", "--repeats", "1"])
    assert out["device"] == "cpu" and out["threads"] == 1
    assert set(out["updates_per_s_per_seed"]["dqn"]) == {"1", "2"}
    assert set(out["updates_per_s_per_seed"]["dqn"]["2"]) == {"loop", "batched"}
    assert out["speedup"]["dqn"]["2"] > 0


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="no CUDA device: the GPU path is checked where one is present")
def test_cuda_device_is_reported():
    from hrlmeta.bench import batched as B

    out = B.main(["--learners", "dqn", "--sizes", "1", "--repeats", "1", "--device", "cuda"])
    assert out["device"] == "cuda"
