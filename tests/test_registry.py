"""The experiment registry: experiment.yaml is the one source of truth, readable without torch, and
experiments outside the package are found through HRLMETA_EXPERIMENTS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hrlmeta import experiments as registry

SRC = Path(registry.__file__).resolve().parents[2]


def test_every_experiment_has_a_valid_description():
    names = registry.available()
    assert len(names) >= 14 and len(set(names)) == len(names)
    orders = [registry.describe(n)["order"] for n in names]
    assert orders == sorted(orders)
    for n in names:
        d = registry.describe(n)
        assert d["id"] == n and d["kind"] in registry.KINDS and d["algos"] and d["title"]
        assert (Path(d["folder"]) / "experiment.yaml").exists()


#: each file of an experiment folder and its one job (docs/adding-an-experiment.md)
ANALYSIS_FILES = ("__init__", "analysis", "measures", "figures", "report", "oracle")


def _builtin_folders():
    return [p for p in sorted((PKG / "experiments").iterdir()) if (p / "experiment.yaml").exists()]


def test_every_folder_has_the_same_shape():
    """One contract in every built-in folder: __init__.py is the docstring alone; training.py holds
    train(algo, seeds, params); figures in figures.py; the report's prose in report.md (a template) with its
    values from report.py's context(); no folder defines report_section or train_batch any more."""
    import ast

    bad = []
    for folder in _builtin_folders():
        init = ast.parse((folder / "__init__.py").read_text())
        if not (len(init.body) == 1 and isinstance(init.body[0], ast.Expr)
                and isinstance(getattr(init.body[0], "value", None), ast.Constant)):
            bad.append(f"{folder.name}/__init__.py: more than its docstring")
        tr = folder / "training.py"
        fns = {n.name: n for n in ast.parse(tr.read_text()).body if isinstance(n, ast.FunctionDef)} if tr.exists() else {}
        train = fns.get("train")
        if train is None or [a.arg for a in train.args.args] != ["algo", "seeds", "params"]:
            bad.append(f"{folder.name}/training.py: no train(algo, seeds, params)")
        if registry.describe(folder.name)["figures"] and not (folder / "figures.py").exists():
            bad.append(f"{folder.name}: figures declared, no figures.py")
        if (folder / "report.py").exists() != (folder / "report.md").exists():
            bad.append(f"{folder.name}: report.py and report.md go together")
        for f in folder.glob("*.py"):
            names = {n.name for n in ast.parse(f.read_text()).body if isinstance(n, ast.FunctionDef)}
            if names & {"report_section", "train_batch"} and f.name != "training.py" and not f.name.startswith("check_"):
                bad.append(f"{folder.name}/{f.name}: defines {sorted(names & {'report_section', 'train_batch'})}")
    assert not bad, "\n".join(bad)


def test_analysis_imports_neither_torch_nor_gymnasium():
    """Every folder's analysis (the package, analysis, measures, figures, report, oracle) imports in a process
    where torch and gymnasium cannot be imported: deciding claims, drawing figures and writing the report never
    load them (the workflow tier decides the smoke run's claims that way)."""
    mods = [f"hrlmeta.experiments.{folder.name}" + ("" if m == "__init__" else f".{m}")
            for folder in _builtin_folders() for m in ANALYSIS_FILES if (folder / f"{m}.py").exists()]
    code = ("import sys, importlib\nfor m in ('torch', 'gymnasium'):\n    sys.modules[m] = None\n"
            "bad = []\nfor name in sys.argv[1:]:\n    try:\n        importlib.import_module(name)\n"
            "    except ImportError as e:\n        bad.append(f'{name}: {e}')\nprint('\\n'.join(bad))\nsys.exit(1 if bad else 0)\n")
    r = subprocess.run([sys.executable, "-c", code, *mods], capture_output=True, text=True)
    assert len(mods) >= 4 * len(_builtin_folders()) and r.returncode == 0, r.stdout + r.stderr[-2000:]


def test_check_algo_names_the_algorithm():
    registry.check_algo("taxi_maxq", "maxq_q")
    with pytest.raises(KeyError, match="no algorithm 'nope'.*maxq_q"):
        registry.check_algo("taxi_maxq", "nope")
    with pytest.raises(KeyError, match="unknown experiment 'nope'"):
        registry.describe("nope")


def test_cost_units_from_the_yaml():
    # taxi: primitive steps x variants
    assert registry.cost_units("taxi_maxq", "flat_q", {"n_steps": 1000, "variants": ["a", "b"]}) == 2000.0
    # bandits: RL2 and a tuned baseline count different things
    p = {"eval_tasks": 10, "tune_tasks": 5, "tuning_grids": {"ucb1": [1, 2, 3]}, "cells": [{"n": 10, "k": 5}],
         "rl2": {"eval_tasks": 4, "ppo": {"batch_tasks": 2}, "cells": [{"n": 10, "k": 5, "iterations": 3}]}}
    assert registry.cost_units("bandits_duan", "ucb1", p) == (10 + 3 * 5) * 10
    assert registry.cost_units("bandits_duan", "greedy", p) == (10 + 1 * 5) * 10
    assert registry.cost_units("bandits_duan", "rl2", p) == (3 * 2 + 4) * 10
    with pytest.raises(KeyError, match="taxi_maxq.*params.n_steps"):
        registry.cost_units("taxi_maxq", "flat_q", {"variants": []})


FAKE_TORCH = "raise ImportError('torch is not importable in this test')\n"


def test_describe_works_without_torch(tmp_path):
    """The declarative half (describe, available, check_algo, cost units) imports no torch, gymnasium or
    numba: each is replaced by a package whose import fails."""
    for mod in ("torch", "gymnasium", "numba"):
        (tmp_path / mod).mkdir()
        (tmp_path / mod / "__init__.py").write_text(FAKE_TORCH.replace("torch", mod))
    code = textwrap.dedent("""
        import json, sys
        from hrlmeta import experiments as R
        out = {n: [R.describe(n)["kind"], list(R.describe(n)["algos"])] for n in R.available()}
        R.check_algo("cartpole_meta", "maml")
        units = R.cost_units("cartpole_meta", "maml", {})
        heavy = sorted(m for m in ("torch", "gymnasium", "numba") if m in sys.modules)
        print(json.dumps({"out": out, "units": units, "heavy": heavy}))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SRC)])}
    env.pop(registry.ENV_VAR, None)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["heavy"] == []
    assert got["out"]["cartpole_meta"][0] == "meta" and "directed_maml" in got["out"]["cartpole_meta"][1]
    assert got["units"] > 0
    # and the fake really blocks torch
    r = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode != 0 and "not importable" in r.stderr


def _write_experiment(root: Path, name: str, **over) -> Path:
    d = root / name
    d.mkdir(parents=True)
    desc = {"id": name, "kind": "episodic", "title": f"{name} test", "algos": ["a", "b"], **over}
    (d / "experiment.yaml").write_text(json.dumps(desc))
    (d / "__init__.py").write_text(f'"""Experiment {name}: a test folder."""\n')
    (d / "training.py").write_text(
        "import pandas as pd\n"
        "def train(algo, seeds, params):\n"
        "    return [pd.DataFrame({'episode': [0], 'return': [float(s)]}) for s in seeds]\n")
    return d


def test_experiments_outside_the_package(tmp_path, monkeypatch):
    ext = tmp_path / "mine"
    _write_experiment(ext, "zz_outside", order=5)
    monkeypatch.setenv(registry.ENV_VAR, str(ext))
    names = registry.available()
    assert names[0] == "zz_outside" and "fourrooms_sutton" in names
    mod = registry.get("zz_outside")
    assert mod.__name__ == "hrlmeta.experiments.zz_outside" and registry.describe("zz_outside")["algos"] == ("a", "b")
    assert [float(t["return"][0]) for t in registry.trainer("zz_outside")("a", [3, 1], {})] == [3.0, 1.0]
    assert registry.cost_units("zz_outside", "a", {}) == 1.0  # no cost block: one unit per seed


def test_bad_descriptions_fail_with_the_key(tmp_path, monkeypatch):
    ext = tmp_path / "bad"
    _write_experiment(ext, "zz_typo", algoz=["x"])
    monkeypatch.setenv(registry.ENV_VAR, str(ext))
    with pytest.raises(KeyError, match="algoz.*unknown key"):
        registry.describe("zz_typo")

    ext2 = tmp_path / "bad2"
    _write_experiment(ext2, "zz_kind", kind="sometimes")
    monkeypatch.setenv(registry.ENV_VAR, str(ext2))
    with pytest.raises(KeyError, match="kind"):
        registry.describe("zz_kind")

    ext3 = tmp_path / "dup"
    _write_experiment(ext3, "taxi_maxq")
    monkeypatch.setenv(registry.ENV_VAR, str(ext3))
    with pytest.raises(KeyError, match="taxi_maxq.*defined twice"):
        registry.available()

    monkeypatch.setenv(registry.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(KeyError, match="not a directory"):
        registry.available()


# ----------------------------------------------------------------------------------------------
# the core knows no experiment
# ----------------------------------------------------------------------------------------------

PKG = Path(registry.__file__).resolve().parents[1]  # src/hrlmeta
#: the entry points: they build the registry and hand it to the core
ENTRY_POINTS = ("cli.py", "bench")


def _imports(path: Path) -> list[tuple[str, int]]:
    """Absolute module names imported by ``path`` (relative imports resolved against its package)."""
    import ast

    rel = path.relative_to(PKG.parent).with_suffix("")
    package = list(rel.parts)[:-1]  # a module's package (an __init__'s package is its own folder)
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((mod, node.lineno))
            out += [(f"{mod}.{a.name}", node.lineno) for a in node.names]
    return out


def test_only_the_entry_points_import_the_experiments():
    bad = []
    for f in sorted(PKG.rglob("*.py")):
        rel = f.relative_to(PKG)
        if rel.parts[0] == "experiments" or str(rel) in ENTRY_POINTS or rel.parts[0] in ENTRY_POINTS:
            continue
        for mod, line in _imports(f):
            if mod == "hrlmeta.experiments" or mod.startswith("hrlmeta.experiments."):
                bad.append(f"{rel}:{line} imports {mod}")
    assert not bad, "the core must be handed the registry, not import it:\n" + "\n".join(bad)


def test_no_experiment_imports_another():
    bad = []
    for folder in sorted(p for p in (PKG / "experiments").iterdir() if (p / "experiment.yaml").exists()):
        for f in sorted(folder.rglob("*.py")):
            for mod, line in _imports(f):
                m = mod.split(".")
                if m[:2] == ["hrlmeta", "experiments"] and len(m) > 2 and m[2] not in (folder.name, "declared",
                                                                                     "REGISTRY"):
                    if (PKG / "experiments" / m[2] / "experiment.yaml").exists():
                        bad.append(f"{f.relative_to(PKG)}:{line} imports {mod}")
    assert not bad, "experiments share code through hrlmeta.shared, never by importing each other:\n" + "\n".join(bad)


def test_the_import_checks_can_fail(tmp_path):
    """The AST walk sees a relative import of a sibling experiment (so the two tests above can fail)."""
    f = PKG / "experiments" / "taxi_maxq" / "_probe_for_test.py"
    f.write_text("from ..fourrooms_sutton import speedup_samples\nfrom .. import declared\n")
    try:
        mods = [m for m, _ in _imports(f)]
        assert "hrlmeta.experiments.fourrooms_sutton.speedup_samples" in mods
        assert "hrlmeta.experiments.declared" in mods
    finally:
        f.unlink()


def test_training_code_imports_nothing_from_bench():
    """Benchmarks measure the training code; the training code never depends on a benchmark."""
    import ast

    src = Path(__file__).resolve().parents[1] / "src" / "hrlmeta"
    bad = []
    for part in ("experiments", "algos", "shared", "envs"):
        for f in (src / part).rglob("*.py"):
            for node in ast.walk(ast.parse(f.read_text())):
                mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                        else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(m == "bench" or m.startswith("bench.") or ".bench" in f".{m}" for m in mods):
                    bad.append(f"{f.relative_to(src)}:{node.lineno}")
    assert not bad, bad
