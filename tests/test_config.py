"""Every shipped config validates; a bad key or value fails at once with a message naming it."""

import copy
import subprocess
import sys

import pytest

from hrlmeta import config as C
from hrlmeta.experiments import REGISTRY


@pytest.fixture(scope="module")
def default():
    return C.load_config(REGISTRY)


@pytest.mark.parametrize("overlay", [[], ["config/smoke.yaml"], ["config/paper.yaml"], ["config/extended.yaml"]])
def test_shipped_configs_validate(overlay):
    cfg = C.load_config(REGISTRY, *overlay)
    assert C.enabled_experiments(cfg, REGISTRY)


def test_extended_overlay_only_restores_what_the_default_reduced(default):
    """config/extended.yaml adds seeds, RL² iterations and meta-iterations, nothing else; every reduction it undoes is a CHOICE
    in config/config.yaml that names it."""
    import yaml

    ext = C.load_config(REGISTRY, "config/extended.yaml")
    raw = yaml.safe_load(open("config/extended.yaml"))["experiments"]
    text = open("config/config.yaml").read()
    assert text.count("in config/extended.yaml") >= len(raw)
    for e, block in raw.items():
        assert set(block) <= {"n_seeds", "seeds_per_job", "params"}, e
        assert ext["experiments"][e]["n_seeds"] >= default["experiments"][e]["n_seeds"]
        if "params" in block and set(block["params"]) == {"n_iterations"}:
            assert ext["experiments"][e]["params"]["n_iterations"] > default["experiments"][e]["params"]["n_iterations"], e
        elif "params" in block:
            assert set(block["params"]) == {"rl2"}, e
            new, old = ext["experiments"][e]["params"]["rl2"]["cells"], default["experiments"][e]["params"]["rl2"]["cells"]
            assert [{k: v for k, v in c.items() if k != "iterations"} for c in new] == \
                [{k: v for k, v in c.items() if k != "iterations"} for c in old], e
            assert all(a["iterations"] >= b["iterations"] for a, b in zip(new, old)), e
            assert any(a["iterations"] > b["iterations"] for a, b in zip(new, old)), e


def test_overlays_only_change_scale(default):
    smoke = C.load_config(REGISTRY, "config/smoke.yaml")
    assert set(smoke["experiments"]) == set(default["experiments"])
    for e in default["experiments"]:
        assert smoke["experiments"][e]["n_seeds"] <= default["experiments"][e]["n_seeds"]


def _bad(cfg, path, value):
    cfg = copy.deepcopy(cfg)
    node = cfg
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return cfg


def test_unknown_top_level_key(default):
    with pytest.raises(C.ConfigError, match=r"bootstrapp.*unknown key"):
        C.validate_config(_bad(default, ["bootstrapp"], {}), REGISTRY)


def test_bad_value_names_key_and_value(default):
    exp = C.enabled_experiments(default, REGISTRY)[0]
    with pytest.raises(C.ConfigError, match=rf"experiments\.{exp}\.n_seeds: 0 is less than"):
        C.validate_config(_bad(default, ["experiments", exp, "n_seeds"], 0), REGISTRY)


def test_unknown_experiment(default):
    with pytest.raises(C.ConfigError, match="experiments.fourrooms_sutonn: unknown experiment"):
        C.validate_config(_bad(default, ["experiments", "fourrooms_sutonn"], {"n_seeds": 1, "algos": ["x"]}),
                          REGISTRY)


def test_unknown_algo(default):
    exp = C.enabled_experiments(default, REGISTRY)[0]
    with pytest.raises(C.ConfigError, match=rf"experiments\.{exp}\.algos: unknown algorithm 'qlearn'"):
        C.validate_config(_bad(default, ["experiments", exp, "algos"], ["qlearn"]), REGISTRY)


def test_unknown_param_key_in_every_experiment(default):
    for exp in C.enabled_experiments(default, REGISTRY):
        cfg = copy.deepcopy(default)
        cfg["experiments"][exp]["params"]["no_such_param"] = 1
        with pytest.raises(C.ConfigError, match=rf"experiments\.{exp}\.params.*no_such_param"):
            C.validate_config(cfg, REGISTRY)


def test_cli_reports_config_error_cleanly(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("bootstrap:\n  reps: -5\n")
    r = subprocess.run(
        [sys.executable, "-m", "hrlmeta", "train", "--experiment", "fourrooms_sutton", "--algo", "flat_q",
         "--seed", "0", "--out", str(tmp_path / "x.parquet"), "--configfile", str(bad)],
        capture_output=True, text=True,
    )
    assert r.returncode == 2
    assert "bootstrap.reps: -5 is less than the minimum of 100" in r.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_schema_defaults_fill_missing_keys_through_refs_and_arrays():
    from hrlmeta.config import schema_defaults

    schema = {"$defs": {"rate": {"type": "number", "default": 0.5}, "cell": {"type": "object", "properties": {
        "n": {"type": "integer", "default": 3}}}},
        "type": "object", "properties": {
            "alpha": {"$ref": "#/$defs/rate"}, "beta": {"type": "number", "default": 1.0},
            "cells": {"type": "array", "items": {"$ref": "#/$defs/cell"}},
            "nested": {"type": "object", "default": {}, "properties": {"k": {"default": [1, 2]}}}}}
    got = schema_defaults({"beta": 2.0, "cells": [{}, {"n": 7}]}, schema)
    assert got == {"alpha": 0.5, "beta": 2.0, "cells": [{"n": 3}, {"n": 7}], "nested": {"k": [1, 2]}}
    assert schema["properties"]["nested"]["default"] == {}          # the schema's own values are not changed
