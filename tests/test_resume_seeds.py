"""A training job keeps the seeds it finished: each run's table and its stamp (params, code fingerprint,
cost) are written as the run ends, and a rerun of the job trains only the seeds that are missing, with
tables identical to an uninterrupted job (hrlmeta.pipeline.train_seeds, `hrlmeta train --code`)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from hrlmeta import pipeline
from hrlmeta.config import experiment_params, load_config
from hrlmeta.experiments import REGISTRY

EXP, ALGO = "fourrooms_seedblog", "flat_q"


@pytest.fixture(scope="module")
def params():
    cfg = load_config(REGISTRY, "config/smoke.yaml")
    return experiment_params(cfg, EXP)


def _run(params, out, seeds, code="abc", timings=None):
    return pipeline.train_seeds(EXP, ALGO, seeds, params, str(out / "seed{seed}.parquet"), REGISTRY, timings, code)


def test_a_failed_job_keeps_its_finished_seeds(tmp_path, params, monkeypatch):
    ref = _run(params, tmp_path / "ref", [0, 1, 2])
    import importlib

    mod = importlib.import_module(f"hrlmeta.experiments.{EXP}.training")   # not batched: one seed per call
    real, calls, killed = mod.train, [], []

    def dies_on_seed_1(algo, seeds, p):
        (seed,) = seeds
        calls.append(seed)
        if seed == 1 and not killed:
            killed.append(seed)
            raise RuntimeError("killed part-way")
        return real(algo, seeds, p)

    monkeypatch.setattr(mod, "train", dies_on_seed_1)
    out = tmp_path / "job"
    with pytest.raises(RuntimeError, match="killed part-way"):
        _run(params, out, [0, 1, 2])
    assert (out / "seed0.parquet").exists() and (out / "seed0.parquet.done.json").exists()
    assert not (out / "seed1.parquet").exists()
    calls.clear()
    timings: list = []
    got = _run(params, out, [0, 1, 2], timings=timings)
    assert calls == [1, 2]                                             # seed 0 was not trained again
    assert [t["seed"] for t in timings] == [0, 1, 2] and timings[0].get("reused") and not timings[1].get("reused")
    for a, b in zip(ref, got):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    # another code fingerprint, or other params, or no stamp: trained again
    calls.clear()
    _run(params, out, [0], code="other")
    assert calls == [0]
    calls.clear()
    _run(params, out, [0], code="other")
    assert calls == []
    calls.clear()
    _run({**params, "num_episodes": params["num_episodes"] + 1}, out, [0], code="other")
    assert calls == [0]
    calls.clear()
    # a stamp vouches only for the very table it was written with; HRLMETA_NO_REUSE trains everything again
    other = {**params, "num_episodes": params["num_episodes"] + 1}
    pd.read_parquet(out / "seed0.parquet").head(3).to_parquet(out / "seed0.parquet")
    _run(other, out, [0], code="other")
    assert calls == [0]
    calls.clear()
    monkeypatch.setenv(pipeline.NO_REUSE_VAR, "1")
    _run(other, out, [0], code="other")
    assert calls == [0]
    monkeypatch.delenv(pipeline.NO_REUSE_VAR)
    calls.clear()
    (out / "seed0.parquet").unlink()
    _run({**params, "num_episodes": params["num_episodes"] + 1}, out, [0], code="other")
    assert calls == [0]


@pytest.mark.workflow   # process-level: a training process killed with SIGKILL, then run again
def test_sigkill_part_way_then_rerun(tmp_path, params):
    """`hrlmeta train` killed with SIGKILL after its first seed: the rerun keeps that seed and the tables
    are byte-identical to an uninterrupted job's."""
    seeds = [str(s) for s in range(6)]
    p = {**params, "num_episodes": 300}

    def cmd(out):
        return [sys.executable, "-m", "hrlmeta", "train", "--experiment", EXP, "--algo", ALGO, "--seed", *seeds,
                "--params-json", json.dumps(p), "--code", "f00d", "--out", str(out / "seed{seed}.parquet"),
                "--timing", str(out / "timing.json")]

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run(cmd(tmp_path / "ref"), check=True, env=env, capture_output=True)
    out = tmp_path / "job"
    proc = subprocess.Popen(cmd(out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (out / "seed0.parquet.done.json").exists():
        assert proc.poll() is None and time.time() < deadline, "the job ended before its first seed was stamped"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = sorted(f.name for f in out.glob("*.done.json"))
    assert kept and len(kept) < len(seeds), kept
    subprocess.run(cmd(out), check=True, env=env, capture_output=True)
    timing = json.loads((out / "timing.json").read_text())
    assert sum(bool(r.get("reused")) for r in timing["runs"]) == len(kept)
    assert "peak_rss_mb" not in timing                                  # a job that trained fewer seeds: no peak
    assert json.loads((tmp_path / "ref" / "timing.json").read_text())["peak_rss_mb"] > 50
    for s in seeds:
        assert (out / f"seed{s}.parquet").read_bytes() == (tmp_path / "ref" / f"seed{s}.parquet").read_bytes()
