"""The project root is found from the current directory (or --root / $HRLMETA_ROOT), not from where the
package is installed: a non-editable install works from a checkout, and elsewhere the error says why."""

import os
import shutil
import subprocess
import sys

from hrlmeta.config import find_root, is_project

from conftest import ROOT


def test_found_from_the_current_directory_and_below(tmp_path, monkeypatch):
    monkeypatch.delenv("HRLMETA_ROOT", raising=False)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("experiments: {}\n")
    (tmp_path / "Snakefile").write_text("")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert is_project(tmp_path)
    assert find_root(tmp_path / "a" / "b") == tmp_path.resolve()
    monkeypatch.setenv("HRLMETA_ROOT", str(ROOT))
    assert find_root(tmp_path) == ROOT.resolve()


def test_installed_copy_outside_a_checkout_says_what_to_do(tmp_path):
    """The package copied elsewhere (as a wheel installs it), run outside any checkout."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "src" / "hrlmeta", site / "hrlmeta", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("HRLMETA_ROOT", None)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    r = subprocess.run([sys.executable, "-m", "hrlmeta", "plan"], cwd=outside, env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "no hrlmeta project here" in r.stderr and "--root" in r.stderr, r.stderr
    r = subprocess.run([sys.executable, "-m", "hrlmeta", "--root", str(ROOT), "plan"], cwd=outside, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0 and '"total_cpu_hours"' in r.stdout.splitlines()[-1], r.stderr[-2000:]
    r = subprocess.run([sys.executable, "-m", "hrlmeta", "--root", str(outside), "plan"], cwd=outside, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 2 and "no Snakefile" in r.stderr
