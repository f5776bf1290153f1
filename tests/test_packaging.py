"""pyproject.toml, environment.yml and the workflow's conda env stay in step."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAME = {"snakemake": "snakemake-minimal"}  # the conda-forge name of the same package


def _req(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return m.group(1).lower(), m.group(2).replace(" ", "")


def _conda_deps(path: Path) -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep.get("pip", []):
                if not pip_dep.startswith("-e"):
                    name, ver = _req(pip_dep)
                    out[name] = ver
        else:
            name, ver = _req(dep.replace("=", "==", 1) if re.match(r"^[\w\-]+=[^=]", dep) else dep)
            out[name] = ver
    return out


def test_torch_pinned_exactly():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in deps


def test_conda_envs_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_req(d) for d in project["dependencies"] + project["optional-dependencies"]["test"])
    for env_file, with_tests in ((ROOT / "environment.yml", True), (ROOT / "workflow/envs/hrlmeta.yaml", False)):
        have = _conda_deps(env_file)
        for name, ver in wanted.items():
            if not with_tests and name in ("pytest", "snakefmt", "snakemake-executor-plugin-slurm", "rliable"):
                continue
            conda_name = CONDA_NAME.get(name, name)
            assert conda_name in have, f"{env_file.name} lacks {conda_name}"
            assert have[conda_name] == ver, f"{env_file.name}: {conda_name}{have[conda_name]} != {ver}"
