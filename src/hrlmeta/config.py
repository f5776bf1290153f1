"""Configuration: loading, deep-merging overlays, and validation against the JSON schemas: the top level
against ``workflow/schemas/config.schema.yaml`` (the file the Snakefile validates against), each
experiment's ``params`` block against the ``schema.yaml`` in the experiment's folder (the registry, handed
in, says where).

``config/config.yaml`` is the default scale and documents every parameter. ``config/smoke.yaml`` and
``config/paper.yaml`` are overlays: they are deep-merged on top of it, exactly as Snakemake merges
``--configfile`` over the Snakefile's ``configfile:``.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

ROOT_ENV = "HRLMETA_ROOT"


def is_project(path: Path) -> bool:
    """A project root: the workflow's ``Snakefile`` and ``config/config.yaml`` are there."""
    return (path / "Snakefile").is_file() and (path / "config" / "config.yaml").is_file()


def find_root(start: str | os.PathLike | None = None) -> Path | None:
    """The project root: ``$HRLMETA_ROOT`` (``hrlmeta --root``) if set, else the first directory from
    ``start`` (default: the current directory) upwards holding a project, else the source checkout this
    package was installed from in editable mode; None where there is none."""
    explicit = os.environ.get(ROOT_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    here = Path(start or os.getcwd()).resolve()
    for d in (here, *here.parents):
        if is_project(d):
            return d
    checkout = Path(__file__).resolve().parents[2]
    return checkout if is_project(checkout) else None


#: where a project's files are looked up (config/, workflow/, tests/golden/, README.md): found from the
#: current directory, not from where the package is installed (see :func:`find_root`)
ROOT = find_root() or Path(os.getcwd()).resolve()
NO_ROOT_HELP = (f"no hrlmeta project here: run from a checkout (a directory with Snakefile and "
                f"config/config.yaml, or below one), or name it with `hrlmeta --root DIR` / ${ROOT_ENV}")
SCHEMA_DIR = Path(os.environ.get("HRLMETA_SCHEMA_DIR", ROOT / "workflow" / "schemas"))
DEFAULT_CONFIG = ROOT / "config" / "config.yaml"


class ConfigError(ValueError):
    """A config key or value is wrong; the message names it."""


def deep_merge(base: dict, over: dict) -> dict:
    """Recursively merge ``over`` into a copy of ``base`` (dicts merge, everything else replaces)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_yaml(path: str | os.PathLike) -> Any:
    path = Path(path)
    if not path.exists():
        hint = f" ({NO_ROOT_HELP})" if not is_project(ROOT) and path.is_relative_to(ROOT) else ""
        raise ConfigError(f"config file not found: {path}{hint}")
    with open(path) as fh:
        try:
            return yaml.safe_load(fh) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None


def load_schema(name: str = "config", registry=None) -> dict:
    """The top-level config schema (``name="config"``), or experiment ``name``'s params schema (its
    folder's ``schema.yaml``, located by ``registry``)."""
    path = SCHEMA_DIR / "config.schema.yaml" if name == "config" else registry.schema_path(name)
    if not Path(path).exists():
        raise ConfigError(f"no schema {path}")
    return load_yaml(path)


def _path(err) -> str:
    parts = [str(p) for p in err.absolute_path]
    return ".".join(parts) if parts else "<top level>"


def _check(instance: Any, schema: dict, prefix: str) -> None:
    import jsonschema

    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for e in errors[:10]:
            where = _path(e)
            where = f"{prefix}.{where}" if prefix and where != "<top level>" else (prefix or where)
            if e.validator == "additionalProperties":
                lines.append(f"{where}: {e.message} (unknown key; check the spelling)")
            else:
                lines.append(f"{where}: {e.message}")
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines))


def validate_config(cfg: dict, registry) -> dict:
    """Validate the whole config; raise :class:`ConfigError` naming the offending key and value.
    ``registry`` (:class:`hrlmeta.experiments.Registry`) knows the experiments; none is imported."""
    _check(cfg, load_schema("config"), "")
    known = registry.available()
    for name, block in cfg.get("experiments", {}).items():
        if name not in known:
            raise ConfigError(
                f"invalid config:\n  experiments.{name}: unknown experiment; known: "
                f"{', '.join(known)}"
            )
        _check(block.get("params", {}), load_schema(name, registry), f"experiments.{name}.params")
        algos = registry.describe(name)["algos"]
        for algo in block.get("algos", []):
            if algo not in algos:
                raise ConfigError(
                    f"invalid config:\n  experiments.{name}.algos: unknown algorithm {algo!r}; "
                    f"known: {', '.join(algos)}"
                )
    return cfg


def load_config(registry, *overlays: str | os.PathLike, base: str | os.PathLike | None = DEFAULT_CONFIG) -> dict:
    """Load ``base`` (default ``config/config.yaml``), merge each overlay on top, validate."""
    cfg: dict = load_yaml(base) if base else {}
    for path in overlays:
        if base and Path(path).resolve() == Path(base).resolve():
            continue
        cfg = deep_merge(cfg, load_yaml(path))
    return validate_config(cfg, registry)


def enabled_experiments(cfg: dict, registry) -> list[str]:
    """The experiments of ``cfg`` that run (``enabled`` not false), in the registry's report order."""
    exps = cfg.get("experiments", {})
    return [e for e in registry.available() if e in exps and exps[e].get("enabled", True)]


def seeds(cfg: dict, experiment: str) -> list[int]:
    block = cfg["experiments"][experiment]
    first = int(block.get("first_seed", 0))
    return list(range(first, first + int(block["n_seeds"])))


def experiment_params(cfg: dict, experiment: str) -> dict:
    try:
        return cfg["experiments"][experiment].get("params", {})
    except KeyError:
        raise ConfigError(f"experiments.{experiment}: not in the config") from None
