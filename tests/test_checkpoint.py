"""Checkpoint and resume inside a training job (hrlmeta.checkpoint; the point maze's loop): a run killed
part-way resumes from its last checkpoint, and its table is byte-identical to an uninterrupted run's; a
checkpoint of another configuration is never resumed; a finished run leaves no checkpoint."""

import copy
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from hrlmeta import checkpoint
from hrlmeta.config import experiment_params, load_config
from hrlmeta.experiments import REGISTRY

EXP = "pointmaze_hiro"


@pytest.fixture(scope="module")
def params():
    p = copy.deepcopy(experiment_params(load_config(REGISTRY, "config/smoke.yaml"), EXP))
    p["train"]["total_steps"] = 1600          # 8 training batches of 4 x 50 steps, evaluations every 400
    return p


def _train(algo, seeds, params):
    return REGISTRY.trainer(EXP)(algo, seeds, params)


@pytest.mark.parametrize("algo", ["hiro", "td3"])
def test_killed_run_resumes_to_the_same_table(tmp_path, params, monkeypatch, algo):
    ref = _train(algo, [0, 1], params)
    saves = []
    real_save = checkpoint.Checkpoint.save

    def save_then_die(self, state, progress):
        real_save(self, state, progress)
        saves.append(progress)
        if len(saves) == 3:
            raise RuntimeError("killed after the third checkpoint")

    monkeypatch.setattr(checkpoint.Checkpoint, "save", save_then_die)
    with checkpoint.job(tmp_path, every=400, code="c0"):
        with pytest.raises(RuntimeError, match="third checkpoint"):
            _train(algo, [0, 1], params)
        assert saves == [400, 800, 1200] and len(list(tmp_path.glob("*.ckpt"))) == 1
        monkeypatch.setattr(checkpoint.Checkpoint, "save", real_save)
        got = _train(algo, [0, 1], params)
    for a, b in zip(ref, got):
        pd.testing.assert_frame_equal(a, b)
    assert not list(tmp_path.glob("*.ckpt*"))                        # removed when the run finished


def test_another_configuration_never_resumes(tmp_path, params, monkeypatch):
    with checkpoint.job(tmp_path, every=400, code="c0"):
        ck = checkpoint.for_run(EXP, "td3", [0, 1], params)
        ck.save({"not": "a state"}, 400)
        assert checkpoint.for_run(EXP, "td3", [0, 1], params).load() == {"not": "a state"}
        other = {**params, "replay_size": 6000}
        assert checkpoint.for_run(EXP, "td3", [0, 1], other).load() is None
        assert checkpoint.for_run(EXP, "td3", [0], params).load() is None
    with checkpoint.job(tmp_path, every=400, code="c1"):                # changed code
        assert checkpoint.for_run(EXP, "td3", [0, 1], params).load() is None
    with checkpoint.job(tmp_path, every=400, code="c0"):                # a file cut short: start afresh
        ck = checkpoint.for_run(EXP, "td3", [0, 1], params)
        ck.path.write_bytes(ck.path.read_bytes()[:40])
        assert ck.load() is None
        ck.done()
        assert ck.path.exists()                                        # removed only when the job ends well
    assert not ck.path.exists()
    assert not checkpoint.for_run(EXP, "td3", [0, 1], params).enabled  # outside a job: never saves


@pytest.mark.workflow   # process-level: a training process killed with SIGKILL, then run again
def test_sigkill_then_rerun_is_byte_identical(tmp_path, params):
    """`hrlmeta train` killed with SIGKILL after a checkpoint, rerun with the same command: it resumes
    (its log says so) and writes the same bytes as a job that was never interrupted."""
    p = copy.deepcopy(params)
    p["train"]["total_steps"] = 4000

    def cmd(out, *extra):
        return [sys.executable, "-m", "hrlmeta", "train", "--experiment", EXP, "--algo", "hiro", "--seed", "0", "1",
                "--params-json", json.dumps(p), "--code", "c0", "--out", str(out / "seed{seed}.parquet"), *extra]

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run(cmd(tmp_path / "ref"), check=True, env=env, capture_output=True)
    ck = tmp_path / "ck"
    job = cmd(tmp_path / "job", "--checkpoint-dir", str(ck), "--checkpoint-every", "400")
    proc = subprocess.Popen(job, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list(ck.glob("*.ckpt")):
        assert proc.poll() is None and time.time() < deadline, "the job ended before its first checkpoint"
        time.sleep(0.02)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(ck.glob("*.ckpt")) and not (tmp_path / "job" / "seed0.parquet").exists()
    done = subprocess.run(job, check=True, env=env, capture_output=True, text=True)
    assert "resuming from" in done.stdout
    for s in (0, 1):
        assert (tmp_path / "job" / f"seed{s}.parquet").read_bytes() == (tmp_path / "ref" / f"seed{s}.parquet").read_bytes()
    assert not list(ck.glob("*.ckpt*"))


@pytest.mark.parametrize("exp", ["tabular_mdp_duan", "bandits_duan"])
def test_rl2_resumes_inside_and_across_its_cells(tmp_path, monkeypatch, exp):
    """RL²'s run (cells trained in turn, PPO iterations inside each) killed after its checkpoints resumes
    to the same table, measured timings aside."""
    from hrlmeta.golden import is_measured

    p = copy.deepcopy(experiment_params(load_config(REGISTRY, "config/smoke.yaml"), exp))
    cells = p["rl2"]["cells"]
    if len(cells) == 1:                           # at least two cells: the resume crosses a cell boundary
        other = {**cells[0], "n": 5 if int(cells[0]["n"]) != 5 else 10}
        cells.append(other)
    for c in cells:
        c["iterations"] = 3
    train = REGISTRY.trainer(exp)
    ref, = train("rl2", [0], p)
    n_cells = len(p["rl2"]["cells"])
    for kill_after in (1, 2 * n_cells - 1):      # inside the first cell; inside the last one
        saves = []
        real_save = checkpoint.Checkpoint.save

        def save_then_die(self, state, progress, kill_after=kill_after):
            real_save(self, state, progress)
            saves.append(progress)
            if len(saves) == kill_after:
                raise RuntimeError("killed")

        monkeypatch.setattr(checkpoint.Checkpoint, "save", save_then_die)
        d = tmp_path / f"k{kill_after}"
        with checkpoint.job(d, every=1, code="c0"):
            with pytest.raises(RuntimeError, match="killed"):
                train("rl2", [0], p)
            monkeypatch.setattr(checkpoint.Checkpoint, "save", real_save)
            got, = train("rl2", [0], p)
        keep = [c for c in ref.columns if not is_measured(c)]
        pd.testing.assert_frame_equal(ref[keep], got[keep])
        assert not list(d.glob("*.ckpt*"))


def test_replay_checkpoints_its_arrays_without_a_copy(tmp_path):
    """A replay buffer pickles its arrays as tensors over the same memory (torch.save then writes them from
    there: no bytes copy of every buffer at a checkpoint), and loads back as numpy arrays, equal."""
    import numpy as np
    import torch

    from hrlmeta.algos.td3 import Replay

    rb = Replay(2, 50, {"obs": (3,), "rew": ()})
    rb.add(obs=np.arange(2 * 7 * 3, dtype=np.float32).reshape(2, 7, 3), rew=np.ones((2, 7), dtype=np.float32))
    state = rb.__getstate__()
    assert isinstance(state["data"]["obs"], torch.Tensor)
    assert state["data"]["obs"].data_ptr() == rb.data["obs"].ctypes.data          # shared, not copied
    torch.save({"rb": rb}, tmp_path / "rb.pt")
    back = torch.load(tmp_path / "rb.pt", weights_only=False)["rb"]
    assert isinstance(back.data["obs"], np.ndarray) and (back.size, back.ptr) == (7, 7)
    for k in rb.data:
        assert np.array_equal(back.data[k], rb.data[k])
    back.add(obs=np.zeros((2, 1, 3), dtype=np.float32), rew=np.zeros((2, 1), dtype=np.float32))   # still writable
    assert back.size == 8
