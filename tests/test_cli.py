"""The command-line contracts: `hrlmeta train`, `hrlmeta oracle`, `python -m hrlmeta.bench`."""

import json
import subprocess
import sys

import pandas as pd
import pytest


def _run(*args):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)


def test_train_one_run_outside_snakemake(tmp_path):
    out = tmp_path / "run.parquet"
    r = _run("hrlmeta", "train", "--experiment", "fourrooms_sutton", "--algo", "intra_option_q",
             "--seed", "3", "--out", str(out), "--configfile", "config/smoke.yaml")
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(out)
    assert set(df["seed"]) == {3} and set(df["algo"]) == {"intra_option_q"}
    for col in ("experiment", "env", "algo", "seed", "episode", "steps", "return", "success", "decisions"):
        assert col in df.columns
    assert (df["decisions"] <= df["steps"]).all()


def test_train_several_seeds_needs_a_placeholder(tmp_path):
    r = _run("hrlmeta", "train", "--experiment", "fourrooms_seedblog", "--algo", "flat_q",
             "--seed", "0", "1", "--out", str(tmp_path / "x.parquet"), "--configfile", "config/smoke.yaml")
    assert r.returncode == 2 and "{seed}" in r.stderr


def test_unknown_algo_is_a_clear_error(tmp_path):
    r = _run("hrlmeta", "train", "--experiment", "fourrooms_sutton", "--algo", "sarsa",
             "--seed", "0", "--out", str(tmp_path / "x.parquet"), "--configfile", "config/smoke.yaml")
    assert r.returncode == 2
    assert "no algorithm 'sarsa'" in r.stderr and "flat_q" in r.stderr


def test_oracle_prints_json_last_line():
    r = _run("hrlmeta", "oracle", "--experiment", "fourrooms_sutton")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout.strip().splitlines()[-1])
    assert doc["experiment"] == "fourrooms_sutton"
    steps = doc["optimal_expected_steps"]
    assert set(steps) >= {"G1", "G2"}
    # shortest paths from the start are 14 (G1) and 16 (G2) moves; slips make the optimum longer
    assert 14 < steps["G1"] < 40 and 16 < steps["G2"] < 45


@pytest.mark.parametrize("argv,code", [(["nosuch"], 2), (["--help"], 0)])
def test_bench_entry(argv, code):
    r = _run("hrlmeta.bench", *argv)
    assert r.returncode == code


def test_every_option_has_help_and_overlays_have_one_spelling():
    """Every subcommand's options say what they do, and an overlay is `--configfile` wherever one is taken."""
    import argparse

    from hrlmeta import cli

    ap = cli.build_parser()
    subs = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction)).choices
    missing, spellings = [], set()
    for name, p in subs.items():
        for a in p._actions:
            if isinstance(a, argparse._HelpAction):
                continue
            if not a.help:
                missing.append(f"{name} {'/'.join(a.option_strings) or a.dest}")
            spellings |= {o for o in a.option_strings if "overlay" in o or "config" in o}
    assert not missing, missing
    # --config-json: the merged config a workflow rule hands on; --config-files: the file names the report prints
    assert len(subs) >= 10 and spellings <= {"--configfile", "--config-json", "--config-files"}, spellings
