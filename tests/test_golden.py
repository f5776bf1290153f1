"""Golden hashes: smoke-scale run tables of the torch experiments (and a numba / numpy sample) must be
bit-for-bit what tests/golden/hashes.json says, on any x86-64 machine (see hrlmeta.golden)."""

import json
import platform
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from hrlmeta import golden
from hrlmeta.pipeline_env import PINNED


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


def test_committed_hashes_cover_the_torch_experiments():
    doc = json.loads(golden.HASHES.read_text())
    keys = set(doc["hashes"])
    for exp, algo in (("nav2d_finn", "maml"), ("nav2d_finn", "fomaml"), ("bandits_duan", "rl2"),
                      ("tabular_mdp_duan", "rl2")):
        assert golden.run_key(exp, algo, 0) in keys
    assert keys == {golden.run_key(*r) for r in golden.RUNS}
    assert doc["pinned"] == PINNED, "hashes made with other pinned settings: regenerate (hrlmeta golden --write)"


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="the committed hashes are of x86-64 kernels; other CPUs give other last bits")
def test_golden_runs_reproduce_the_committed_hashes():
    """A fresh process, as a user runs it: pinned kernels, smoke-scale runs, hashes compared."""
    r = subprocess.run([sys.executable, "-m", "hrlmeta", "golden"], capture_output=True, text=True)
    assert r.returncode == 0, f"\n{r.stdout}\n{r.stderr}"
    assert "golden run tables match" in r.stdout


def test_mismatch_message_explains_drift_and_how_to_regenerate():
    bad = golden.compare({"a/b/seed0": "1" * 64}, {"a/b/seed0": "2" * 64, "c/d/seed0": "3" * 64})
    assert len(bad) == 2 and "(not run)" in bad[1]
    assert "hrlmeta golden --write" in golden.DRIFT_HELP and "machine" in golden.DRIFT_HELP
