"""Golden hashes: the probed operations (tests/golden/ops.json) and the golden run tables of every torch
experiment at its default network sizes (and a numba / numpy sample, tests/golden/hashes.json) must be
bit for bit what the committed files say, on every machine docs/determinism.md covers (hrlmeta.golden)."""

import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hrlmeta.experiments import REGISTRY
from hrlmeta import golden, golden_probe
from hrlmeta.config import load_config
from hrlmeta.numerics import PINNED


def _table():
    return pd.DataFrame({"experiment": ["e", "e"], "seed": [0, 0], "iteration": [0, 1],
                         "return": [1.0, 2.5], "success": [True, False], "wall_s": [0.1, 0.2],
                         "cost_s": [3.0, 4.0]})


def test_hash_ignores_timing_columns_and_column_order():
    df = _table()
    h = golden.table_hash(df)
    other = df.assign(wall_s=[9.0, 9.0], cost_s=[0.0, 0.0])[list(reversed(df.columns))]
    assert golden.table_hash(other) == h
    assert golden.table_hash(df.drop(columns=["wall_s", "cost_s"])) == h


def test_hash_sees_one_ulp_and_every_kind_of_change():
    df = _table()
    h = golden.table_hash(df)
    ulp = df.copy()
    ulp.loc[1, "return"] = np.nextafter(2.5, 3.0)
    assert golden.table_hash(ulp) != h
    assert golden.table_hash(df.assign(success=[True, True])) != h
    assert golden.table_hash(df.assign(experiment=["e", "f"])) != h
    assert golden.table_hash(df.iloc[::-1].reset_index(drop=True)) != h  # row order is content
    assert golden.table_hash(df.rename(columns={"iteration": "iter"})) != h
    assert golden.table_hash(df.assign(seed=df["seed"].astype("float64"))) != h  # int vs float


def test_measured_columns():
    assert golden.is_measured("wall_s") and golden.is_measured("rollout_s")
    assert not golden.is_measured("return") and not golden.is_measured("steps")


def test_hash_of_array_cells_sees_every_element():
    df = pd.DataFrame({"traj_x": [np.arange(2000, dtype=np.float32), np.array([], dtype=np.float32)]})
    h = golden.table_hash(df)
    other = df.copy()
    other.at[0, "traj_x"] = np.where(np.arange(2000) == 1500, np.nextafter(np.float32(1500), np.float32(2000)),
                                     np.arange(2000, dtype=np.float32)).astype(np.float32)
    assert golden.table_hash(other) != h
    assert golden.table_hash(df.assign(traj_x=[df.at[0, "traj_x"].astype(np.float64), df.at[1, "traj_x"]])) != h


def _torch_experiments() -> set[str]:
    """Experiments whose training code uses torch: some definition a training job reaches (hrlmeta.fingerprint)
    imports torch or names it in its code."""
    import ast
    import importlib.util

    from hrlmeta.fingerprint import reached

    uses: dict[str, dict[str, bool]] = {}

    def torch_in(node) -> bool:
        for x in ast.walk(node):
            if isinstance(x, ast.Name) and x.id == "torch":
                return True
            if isinstance(x, ast.Import) and any(a.name.split(".")[0] == "torch" for a in x.names):
                return True
            if isinstance(x, ast.ImportFrom) and (x.module or "").split(".")[0] == "torch":
                return True
        return False

    def definitions(module: str) -> dict[str, bool]:
        if module not in uses:
            spec = importlib.util.find_spec(module)
            tree = ast.parse(Path(spec.origin).read_text())
            uses[module] = {}
            for node in tree.body:
                names = ([node.name] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                         else [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)])
                for n in names:
                    uses[module][n] = torch_in(node)
        return uses[module]

    return {exp for exp in REGISTRY.available()
            if any(definitions(r.split(":")[0]).get(r.split(":")[1], False) for r in reached(exp))}


def test_committed_hashes_cover_every_torch_experiment():
    doc = json.loads(golden.HASHES.read_text())
    keys = set(doc["hashes"])
    torch_exps = _torch_experiments()
    assert {"nav2d_finn", "bandits_duan", "pointmaze_hiro", "pointmass_diayn", "chain_hdqn"} <= torch_exps
    declared = {e for e, _, _ in golden.golden_runs(REGISTRY)}
    assert torch_exps - {"learner_checks", "lunarlander_meta"} <= declared, "a torch experiment without golden runs"
    assert keys == {golden.run_key(*r) for r in golden.golden_runs(REGISTRY)}
    assert doc["pinned"] == PINNED, "hashes made with other pinned settings: regenerate (hrlmeta golden --write)"
    ops = json.loads(golden.OPS_FILE.read_text())
    assert set(ops["ops"]) == set(golden_probe.OPS) and ops["pinned"] == PINNED


def _network_sizes(params, path=()):
    """Every setting of a network's size or a batch shape in an experiment's params."""
    keys = {"hidden", "batch_size", "batch_tasks", "num_skills", "n_envs", "hvp_subsample"}
    out = {}
    if isinstance(params, dict):
        for k, v in params.items():
            if k in keys and not isinstance(v, dict):
                out[(*path, k)] = v
            else:
                out.update(_network_sizes(v, (*path, k)))
    return out


def test_golden_runs_use_the_default_network_sizes():
    """The golden params (experiment.yaml) may shorten runs, never shrink a torch experiment's networks or batches."""
    default = load_config(REGISTRY)
    gold = golden.golden_config(REGISTRY)
    for exp in _torch_experiments() & {e for e, _, _ in golden.golden_runs(REGISTRY)}:
        assert REGISTRY.describe(exp)["golden"].get("params"), f"{exp}: no golden params in its experiment.yaml"
        want, got = default["experiments"][exp]["params"], gold["experiments"][exp]["params"]
        for path, v in _network_sizes(want).items():
            if path[:2] == ("rl2", "cells"):
                continue
            node = got
            for k in path:
                node = node[k]
            assert node == v, f"{exp}: {'.'.join(path)} is {node} in the golden runs, {v} by default"
    for exp in ("bandits_duan", "tabular_mdp_duan"):  # RL^2 trains at the default trial batch
        batch = default["experiments"][exp]["params"]["rl2"]["ppo"]["batch_tasks"]
        cells = gold["experiments"][exp]["params"]["rl2"]["cells"]
        assert all(c.get("batch_tasks", batch) == batch for c in cells), exp


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="the committed hashes are of x86-64 kernels; other CPUs give other last bits")
def test_golden_runs_reproduce_the_committed_hashes():
    """A fresh process, as a user runs it: pinned kernels, operation probe and golden runs, hashes compared."""
    r = subprocess.run([sys.executable, "-m", "hrlmeta", "golden"], capture_output=True, text=True)
    assert r.returncode == 0, f"\n{r.stdout}\n{r.stderr}"
    assert "golden run tables match" in r.stdout and "probed operations match" in r.stdout


def test_op_probe_on_a_disagreeing_machine_names_the_operation(tmp_path):
    """Seconds: against a file in which one operation's hash differs (as on a machine whose kernels
    differ) the operation probe fails naming it. (That it matches tests/golden/ops.json itself is checked
    by the golden test above, which runs the same probe.)"""
    cmd = [sys.executable, "-m", "hrlmeta", "golden", "--ops-only"]
    doc = json.loads(golden.OPS_FILE.read_text())
    doc["ops"]["bmm_batched_seeds_nav2d"] = "0" * 64
    other = tmp_path / "ops.json"
    other.write_text(json.dumps(doc))
    r = subprocess.run(cmd + ["--ops-file", str(other)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "op bmm_batched_seeds_nav2d" in r.stderr and "(1 of " in r.stderr
    assert golden_probe.describe("bmm_batched_seeds_nav2d") in r.stderr and "adam_fused" not in r.stderr


def test_probe_inputs_are_cpu_independent_and_outputs_hash_every_bit():
    a = golden_probe._u((5, 3), 7)
    assert a.dtype == np.float32 and np.array_equal(a, golden_probe._u((5, 3), 7))
    assert np.all(a * 2**23 == np.round(a * 2**23))  # on a 2^-23 grid: exact in float32
    b = a.copy()
    b[4, 2] = np.nextafter(b[4, 2], np.float32(2))
    assert golden_probe.tensor_hash(a) != golden_probe.tensor_hash(b)
    assert golden_probe.tensor_hash(a) != golden_probe.tensor_hash(a.astype(np.float64))
    assert golden_probe.tensor_hash(a) != golden_probe.tensor_hash(a.reshape(3, 5))


def test_probe_covers_the_kernel_families_the_torch_experiments_use():
    for name in ("linear_nav2d", "bmm_batched_seeds_nav2d", "baddbmm_sac_critics", "baddbmm_td3_critics",
                 "gru_cell", "gru_sequence_backward", "trpo_hvp_cg", "baseline_bmm_solve_f64", "gaussian_logprob",
                 "log_softmax_categorical", "elementwise", "adam_fused", "adam_foreach", "adam_for_loop",
                 "random_draws", "numpy_blas_lapack"):
        assert name in golden_probe.OPS and golden_probe.describe(name)


def test_mismatch_message_explains_drift_and_how_to_regenerate():
    bad = golden.compare({"a/b/seed0": "1" * 64}, {"a/b/seed0": "2" * 64, "c/d/seed0": "3" * 64})
    assert len(bad) == 2 and "(not run)" in bad[1]
    assert "hrlmeta golden --write" in golden.DRIFT_HELP and "machine" in golden.DRIFT_HELP
    lines = golden_probe.compare({"elementwise": "1" * 64}, {"elementwise": "2" * 64, "gru_cell": "3" * 64})
    assert lines[0].startswith("  op elementwise:") and "tanh" in lines[0] and "(not run)" in lines[1]
