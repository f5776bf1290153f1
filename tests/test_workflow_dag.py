"""The workflow's DAG, from dry runs (seconds, no training): it parses without torch or gymnasium, stays
small at the paper scale, and a figures job depends only on its own experiment's settings."""

import re
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, SNAKEMAKE, copy_workflow

BLOCKED = ("torch", "gymnasium")


def _dry(cwd, *args, env=None):
    r = subprocess.run([*SNAKEMAKE, "-n", "--forceall", *args], cwd=cwd, capture_output=True, text=True, env=env)
    assert r.returncode == 0, f"snakemake -n {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout + r.stderr


@pytest.fixture(scope="module")
def no_torch_env(tmp_path_factory):
    """PYTHONPATH with packages `torch` and `gymnasium` whose import fails."""
    import os

    fake = tmp_path_factory.mktemp("blocked")
    for name in BLOCKED:
        (fake / name).mkdir()
        (fake / name / "__init__.py").write_text(f"raise ImportError('{name} is blocked: the DAG must parse without it')\n")
    path = os.pathsep.join([str(fake), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def _rules(cwd, config, env):
    r = subprocess.run([*SNAKEMAKE, "--list-rules", "--configfile", config], cwd=cwd, capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    # one rule a line: its name, then its docstring in parentheses where it has one
    return [m.group(1) for line in r.stdout.splitlines() if (m := re.match(r"^(\w+)(?: \(.*\))?$", line.strip()))]


def test_blocked_packages_really_fail_to_import(no_torch_env):
    r = subprocess.run([sys.executable, "-c", "import torch"], env=no_torch_env, capture_output=True, text=True)
    assert r.returncode != 0 and "blocked" in r.stderr


# the paper scale's dry run and the two-config comparison below take longer: workflow tier (.ci/run)
@pytest.mark.parametrize("config", ["config/config.yaml", pytest.param("config/paper.yaml", marks=pytest.mark.workflow)])
def test_dag_parses_without_torch_and_has_few_rules(config, no_torch_env):
    out = _dry(ROOT, "--configfile", config, env=no_torch_env)
    assert "Job stats" in out
    rules = _rules(ROOT, config, no_torch_env)
    assert "train" in rules and not any(r.startswith("train_") for r in rules)
    assert len(rules) < 25, rules


def _shell_commands(text):
    """{rule name: shell command} of every job of a dry run made with -p."""
    out, rule = {}, None
    for line in text.splitlines():
        m = re.match(r"^(?:local)?rule (\w+):", line)
        if m:
            rule = m.group(1)
        elif line.startswith("Shell command:") and rule and rule.startswith("figures_"):
            out[rule] = line
    return out


@pytest.mark.workflow
def test_editing_one_experiment_redraws_only_its_figures(tmp_path):
    """A figures job's command (and so its params) holds only its own experiment's settings."""
    work = copy_workflow(tmp_path / "wf")
    smoke = yaml.safe_load((work / "config" / "smoke.yaml").read_text())
    changed = "fourrooms_sutton"
    block = smoke["experiments"].setdefault(changed, {}).setdefault("params", {})
    block["n_episodes"] = int(block.get("n_episodes", 20)) + 1
    (work / "config" / "edited.yaml").write_text(yaml.safe_dump(smoke))
    before = _shell_commands(_dry(work, "-p", "--configfile", "config/smoke.yaml"))
    after = _shell_commands(_dry(work, "-p", "--configfile", "config/edited.yaml"))
    assert set(before) == set(after) and f"figures_{changed}" in before
    differ = {r for r in before if before[r] != after[r]}
    assert differ == {f"figures_{changed}"}
