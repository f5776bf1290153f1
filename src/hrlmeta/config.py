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


#: libyaml's parser where PyYAML was built with it (the same safe constructors, ~10x faster: a config load reads
#: ~40 files, the experiments' schemas among them), else PyYAML's own
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_CACHE: dict = {}


def load_yaml(path: str | os.PathLike) -> Any:
    """A YAML file's document ({} when empty), parsed once per process and version of the file (path,
    modification time, size); each call gets its own copy."""
    path = Path(path)
    if not path.exists():
        hint = f" ({NO_ROOT_HELP})" if not is_project(ROOT) and path.is_relative_to(ROOT) else ""
        raise ConfigError(f"config file not found: {path}{hint}")
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _YAML_CACHE:
        try:
            _YAML_CACHE[key] = yaml.load(path.read_text(), Loader=YAML_LOADER) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None
    return copy.deepcopy(_YAML_CACHE[key])


def load_schema(name: str = "config", registry=None) -> dict:
    """The top-level config schema (``name="config"``), or experiment ``name``'s params schema (its
    folder's ``schema.yaml``, located by ``registry``)."""
    path = SCHEMA_DIR / "config.schema.yaml" if name == "config" else registry.schema_path(name)
    if not Path(path).exists():
        raise ConfigError(f"no schema {path}")
    return _extended(Path(path))


def _extended(path: Path, seen: tuple = ()) -> dict:
    """A schema file with its ``extends:`` (a path relative to it, or a list of them) resolved: each base is
    deep-merged under the file's own keys, so experiments of one family state their shared parameters once."""
    doc = load_yaml(path)
    bases = doc.pop("extends", None) if isinstance(doc, dict) else None
    if not bases:
        return doc
    out: dict = {}
    for rel in [bases] if isinstance(bases, str) else list(bases):
        base = (path.parent / rel).resolve()
        if base in seen or base == path.resolve():
            raise ConfigError(f"{path}: extends: {rel} makes a cycle")
        if not base.exists():
            raise ConfigError(f"{path}: extends: {rel}: file not found ({base})")
        out = deep_merge(out, _extended(base, (*seen, path.resolve())))
    return deep_merge(out, doc)


def _check(instance: Any, schema: dict, prefix: str) -> None:
    """Validate ``instance`` against ``schema``; a :class:`ConfigError` with one line per problem, keys under
    ``prefix`` (the lines of ``hrlmeta check``)."""
    from .check import _schema_lines

    lines = _schema_lines(instance, schema, prefix, "")
    if lines:
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines[:10]))


def validate_config(cfg: dict, registry) -> dict:
    """Validate the whole config; raise :class:`ConfigError` naming each offending key and value (the config
    checks of ``hrlmeta check``, :func:`hrlmeta.check.config_problems`). ``registry``
    (:class:`hrlmeta.experiments.Registry`) knows the experiments; none is imported."""
    from .check import config_problems

    found = config_problems(cfg, registry, where="")
    if found:
        raise ConfigError("invalid config:\n  " + "\n  ".join(found[:10]))
    return cfg


def with_folder_blocks(cfg: dict, registry) -> dict:
    """``cfg`` with each experiment's block completed from its own folder (``config`` in its experiment.yaml):
    the folder's ``default`` block, then the block of the scale the config's top-level ``scale`` names
    (``smoke``, ``paper``, ...; absent: ``default``), then whatever the config files give for the experiment
    on top (they override, and are never required); ``algos`` default to every algorithm the experiment
    declares. Experiments whose folder has no ``config`` are left as the config files give them. Last, every
    experiment's ``params`` get the ``default:`` values of its schema for the keys they lack
    (:func:`schema_defaults`): the schema states a parameter's default once, and the code reads the key."""
    if not isinstance(cfg, dict) or not isinstance(cfg.get("experiments", {}), dict):
        return cfg   # the checks name what is wrong with it
    if not hasattr(registry, "available"):
        return cfg   # a registry that knows no folders (a test's stand-in) completes nothing
    scale = str(cfg.get("scale") or "default")
    exps = dict(cfg.get("experiments") or {})
    for name in registry.available():
        try:
            own = registry.describe(name).get("config")
        except Exception:   # a broken experiment.yaml: reported by the checks
            continue
        if not own:
            continue
        block = copy.deepcopy(own.get("default") or {})
        if scale != "default":
            block = deep_merge(block, own.get(scale) or {})
        block.setdefault("algos", list(registry.describe(name)["algos"]))
        given = exps.get(name)
        exps[name] = deep_merge(block, given) if isinstance(given, dict) else (block if given is None else given)
    for name, block in exps.items():
        if isinstance(block, dict) and isinstance(block.get("params", {}), dict) and name in registry.available():
            try:
                exps[name] = {**block, "params": complete_params(name, block.get("params") or {}, registry)}
            except Exception:   # a broken or missing schema: reported by the checks
                continue
    return {**cfg, "experiments": exps}


def complete_params(name: str, params: dict, registry) -> dict:
    """A copy of experiment ``name``'s ``params`` with its schema's ``default:`` values for the keys it lacks: the
    one way a params block is completed (the config loader, ``--params-json``, the cost expressions)."""
    return schema_defaults(copy.deepcopy(params), load_schema(name, registry))


def _resolved(schema: Any, root: dict) -> Any:
    """``schema`` with a local ``$ref`` (``#/$defs/...``) merged under its own keys."""
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        node: Any = root
        for key in schema["$ref"][2:].split("/"):
            node = node.get(key, {}) if isinstance(node, dict) else {}
        return {**node, **{k: v for k, v in schema.items() if k != "$ref"}} if isinstance(node, dict) else schema
    return schema


def schema_defaults(instance: Any, schema: dict, root: dict | None = None) -> Any:
    """``instance`` (changed in place, and returned) with the ``default`` of every property its schema declares
    and it lacks, recursively through objects' ``properties``, arrays' ``items`` and local ``$ref``s
    (``#/$defs/...``). A value the instance has is never replaced."""
    root = schema if root is None else root
    schema = _resolved(schema, root)
    if not isinstance(schema, dict):
        return instance
    if isinstance(instance, dict):
        for key, sub in (schema.get("properties") or {}).items():
            own = _resolved(sub, root)
            if key not in instance and isinstance(own, dict) and "default" in own:
                instance[key] = copy.deepcopy(own["default"])
            if key in instance:
                schema_defaults(instance[key], sub, root)
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for item in instance:
            schema_defaults(item, schema["items"], root)
    return instance


def load_config(registry, *overlays: str | os.PathLike, base: str | os.PathLike | None = DEFAULT_CONFIG) -> dict:
    """Load ``base`` (default ``config/config.yaml``), merge each overlay on top, complete every experiment's
    block from its folder (:func:`with_folder_blocks`), validate."""
    cfg: dict = load_yaml(base) if base else {}
    for path in overlays:
        if base and Path(path).resolve() == Path(base).resolve():
            continue
        cfg = deep_merge(cfg, load_yaml(path))
    return validate_config(with_folder_blocks(cfg, registry), registry)


def only_names(cfg: dict) -> list[str] | None:
    """The experiments the config's ``only`` key restricts a run to (``--config only=a,b`` under Snakemake,
    ``--only a,b`` in the CLI: a comma-separated string or a list); None: no restriction."""
    o = cfg.get("only")
    if o is None:
        return None
    items = o.split(",") if isinstance(o, str) else list(o)
    names = [str(x).strip() for x in items if str(x).strip()]
    return names or None


def enabled_experiments(cfg: dict, registry) -> list[str]:
    """The experiments of ``cfg`` that run (``enabled`` not false, and named by ``only`` where it is set), in
    the registry's report order."""
    exps = cfg.get("experiments", {})
    only = only_names(cfg)
    return [e for e in registry.available() if e in exps and exps[e].get("enabled", True)
            and (only is None or e in only)]


def restrict(cfg: dict, only, registry=None) -> dict:
    """``cfg`` with ``only`` (a comma-separated string or list of experiment names, None: unchanged) set."""
    if only is None:
        return cfg
    return {**cfg, "only": only}


def seeds(cfg: dict, experiment: str) -> list[int]:
    block = cfg["experiments"][experiment]
    first = int(block.get("first_seed", 0))
    return list(range(first, first + int(block["n_seeds"])))


def experiment_params(cfg: dict, experiment: str) -> dict:
    try:
        return cfg["experiments"][experiment].get("params", {})
    except KeyError:
        raise ConfigError(f"experiments.{experiment}: not in the config") from None
