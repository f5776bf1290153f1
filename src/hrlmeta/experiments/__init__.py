"""Experiment registry: one folder per experiment.

An experiment is a folder named like its id (``fourrooms_sutton/``), found in this package or in any
directory listed in the environment variable ``HRLMETA_EXPERIMENTS`` (``os.pathsep``-separated; each
directory holds experiment folders), so a new experiment needs no edit of the package. A folder holds:

``experiment.yaml`` (required; read without importing anything heavy)
    ``id`` (= the folder name), ``kind`` (``episodic`` | ``meta``: which tidy schema its run tables
    follow, see :mod:`hrlmeta.tidy`), ``title``, ``description``, ``algos``, ``figures``, optional
    ``order`` (report order; default 1000) and ``cost`` (what one seed costs, for ``hrlmeta plan``:
    ``unit`` in words, ``units`` an expression over ``params``/``algo``, optional ``let`` names; see
    :func:`cost_units`). Validated against :data:`DESCRIPTION_SCHEMA`.

``__init__.py`` (required)
    The experiment's docstring alone: what it runs, the rows its tables have.

``training.py`` (required)
    ``train(algo: str, seeds: list[int], params: dict) -> list[pandas.DataFrame]``: one table per seed, in the
    order of ``seeds``; each run a pure function of (algo, seed, params) (a seed's table never depends on which
    seeds share the call). ``experiment``, ``algo`` and ``seed`` are added (or checked) by the caller.
    ``params`` is the experiment's ``params`` block from the config, validated against the folder's
    ``schema.yaml`` and completed with its defaults. ``batched: true`` in experiment.yaml: the seeds of a job
    are handed over together (trained as one batch); otherwise one at a time. The only file that may import
    torch (with the modules it calls).

``schema.yaml`` (required)
    JSON schema (YAML) of the experiment's ``params`` block.

``measures.py`` (optional)
    ``MEASURES``: named measures the claims select (:mod:`hrlmeta.claims`, :class:`hrlmeta.claims.Measure`).

``claims.yaml`` (optional)
    The claims the experiment decides (see :mod:`hrlmeta.claims`).

``analysis.py`` (optional)
    Torch-free helpers that the measures, figures and report share.

``figures.py`` (where ``figures`` lists any)
    ``figures(table, params, outdir)`` draws every figure named in ``figures``
    (``results/figures/{experiment}_{name}.png``).

``report.md`` and ``report.py`` (optional)
    The experiment's section of REPORT.md: ``report.md`` holds its prose, a Jinja2 template rendered with
    ``params`` and ``context(table, params) -> dict`` of ``report.py`` (:func:`hrlmeta.report.render_section`).

``oracle.py`` (optional)
    ``oracle(params) -> dict``: exact optimum of the experiment's task(s), printed by ``hrlmeta oracle``.

Only this package and the entry points (``hrlmeta.cli``, ``hrlmeta.bench``) import it; the core
(claims, config, plan, report, pipeline, golden) is handed a :class:`Registry`.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

import yaml

HERE = Path(__file__).resolve().parent
ENV_VAR = "HRLMETA_EXPERIMENTS"
KINDS = ("episodic", "meta")
DEFAULT_ORDER = 1000
_NAME = r"^[a-z][a-z0-9_]*$"

#: JSON schema of ``experiment.yaml``
DESCRIPTION_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "kind", "title", "algos"],
    "properties": {
        "id": {"type": "string", "pattern": _NAME},
        "order": {"type": "number"},
        "kind": {"enum": list(KINDS)},
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        # a YAML file (relative to experiment.yaml) whose keys a family of experiments shares, merged under the file's
        "extends": {"type": "string"},
        # the experiment's row in README.md's "What runs" table (hrlmeta.readme.render_what_runs)
        "readme": {"type": "string", "minLength": 1},
        "algos": {"type": "array", "minItems": 1, "uniqueItems": True,
                  "items": {"type": "string", "pattern": r"^[A-Za-z0-9_]+$"}},
        "figures": {"type": "array", "uniqueItems": True, "items": {"type": "string", "pattern": r"^[A-Za-z0-9_]+$"}},
        # the training loop saves and resumes its whole state (hrlmeta.checkpoint): a job may run in segments
        "resumable": {"type": "boolean"},
        # training.py's train(algo, seeds, params) trains the seeds it is given as one batch (a job's seeds are
        # handed over together); false (default): it is handed one seed at a time
        "batched": {"type": "boolean"},
        "cost": {
            "type": "object",
            "additionalProperties": False,
            "required": ["unit", "units"],
            "properties": {
                "unit": {"type": "string"},
                "units": {"type": "string"},
                "let": {"type": "object", "additionalProperties": {"type": "string"}},
                # the experiment's own estimate of CPU seconds per unit (one number, or per algorithm), used
                # by `hrlmeta plan` and the workflow where config/costs.yaml has no measured rate yet
                "cpu_s_per_unit": {"oneOf": [{"type": "number", "exclusiveMinimum": 0},
                                             {"type": "object", "additionalProperties": {"type": "number",
                                                                                         "exclusiveMinimum": 0}}]},
            },
        },
        # golden runs (hrlmeta.golden): the algorithms (seed 0) whose tables must hash the same on every machine,
        # and the params that shorten them (merged on config.yaml + smoke.yaml; never a network or batch shape)
        "golden": {"type": "object", "additionalProperties": False, "required": ["runs"],
                   "properties": {"runs": {"type": "array", "minItems": 1, "uniqueItems": True,
                                           "items": {"type": "string", "pattern": r"^[A-Za-z0-9_]+$"}},
                                  "params": {"type": "object"}}},
        # the experiment's config block at each scale, so that no file outside the folder is needed to run it:
        # `default` (n_seeds, algos, seeds_per_job, threads, params, ...: the keys of an experiment block of
        # the config), and `smoke` / `paper` / any other scale name merged on top of it where the config's
        # top-level `scale` names that scale; config/*.yaml blocks override (hrlmeta.config.with_folder_blocks)
        "config": {"type": "object", "required": ["default"],
                   "properties": {"default": {"type": "object"}},
                   "additionalProperties": {"type": "object"}},
        # algorithm -> the learner checks (claim ids of experiment learner_checks) of the deep learner that
        # algorithm trains: every claim that measures the algorithm names them in claims.tsv's learner_check
        "learner_checks": {"type": "object", "additionalProperties": {
            "type": "array", "minItems": 1, "items": {"type": "string", "pattern": r"^learner_[A-Za-z0-9_]+$"}}},
        # where the experiment's deep learner is itself the object of its claims (e.g. a listing run as
        # written), why no learner check vouches for it: claims.tsv's learner_check says so
        "learner_unchecked": {"type": "string", "minLength": 1},
    },
}


class ExperimentError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; this one reads as a sentence
        return str(self.args[0]) if self.args else ""


# ----------------------------------------------------------------------------------------------
# finding experiment folders (no import of experiment code)
# ----------------------------------------------------------------------------------------------


def search_path() -> list[Path]:
    """The directories holding experiment folders: this package, then ``$HRLMETA_EXPERIMENTS``."""
    extra = [Path(p).expanduser().resolve() for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    for d in extra:
        if not d.is_dir():
            raise ExperimentError(f"{ENV_VAR}: {d} is not a directory")
    return [HERE, *extra]


def _sync_package_path(dirs: list[Path]) -> None:
    """Experiments outside the package import as ``hrlmeta.experiments.<id>`` too: their directories are
    appended to this package's ``__path__``."""
    for d in dirs:
        if str(d) not in __path__:
            __path__.append(str(d))


@functools.lru_cache(maxsize=None)
def _folders(dirs: tuple[Path, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in dirs:
        for f in sorted(d.glob("*/experiment.yaml")):
            name = f.parent.name
            if name in found and found[name] != f.parent:
                raise ExperimentError(f"experiment {name!r} is defined twice: {found[name]} and {f.parent}")
            found[name] = f.parent
    return found


def folders() -> dict[str, Path]:
    """{experiment id: its folder}, every experiment on the search path."""
    dirs = search_path()
    _sync_package_path(dirs)
    return _folders(tuple(dirs))


def folder(name: str) -> Path:
    f = folders()
    if name not in f:
        raise ExperimentError(f"unknown experiment {name!r}; known experiments: {', '.join(available()) or '(none)'}")
    return f[name]


@functools.lru_cache(maxsize=None)
def _describe(path: Path, mtime) -> dict:
    from ..config import _check, ConfigError

    with open(path) as fh:
        try:
            doc = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))   # libyaml where built
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            at = f"line {mark.line + 1}: " if mark is not None else ""
            raise ExperimentError(f"{path}: {at}{getattr(e, 'problem', None) or str(e).splitlines()[0]}") from None
    where = f"{path}"
    if isinstance(doc, dict) and doc.get("extends") is not None:
        doc = _extended_description(path, doc)
    try:
        _check(doc, DESCRIPTION_SCHEMA, "")
    except ConfigError as e:
        raise ExperimentError(f"{where}: {e}") from None
    if doc["id"] != path.parent.name:
        raise ExperimentError(f"{where}: id {doc['id']!r} differs from the folder name {path.parent.name!r}")
    doc.setdefault("description", doc["title"])
    doc.setdefault("figures", [])
    doc.setdefault("order", DEFAULT_ORDER)
    doc["algos"] = tuple(doc["algos"])
    doc["figures"] = tuple(doc["figures"])
    doc["folder"] = str(path.parent)
    return doc


def _extended_description(path: Path, doc: dict) -> dict:
    """``doc`` with its ``extends:`` (a YAML file, relative to ``path``, that a family of experiments shares: e.g.
    their ``cost`` block and ``learner_checks``) deep-merged under its own keys."""
    from ..config import ConfigError, deep_merge, load_yaml

    rel = doc.pop("extends")
    base = (path.parent / str(rel)).resolve()
    try:
        shared = load_yaml(base) if base.exists() else None
    except ConfigError as e:
        raise ExperimentError(f"{path}: extends: {e}") from None
    if not isinstance(shared, dict) or "extends" in shared:
        why = "file not found" if shared is None else "not a mapping without extends of its own"
        raise ExperimentError(f"{path}: extends: {rel}: {why} ({base})")
    return deep_merge(shared, doc)


def describe(name: str) -> dict:
    """The experiment's ``experiment.yaml`` (validated; ``algos``/``figures`` as tuples, ``folder`` added).
    Imports no experiment code (no torch, gymnasium or numba)."""
    path = folder(name) / "experiment.yaml"
    # an edited base (experiment.yaml extends:, the package's shared/*.experiment.yaml) is read again too
    bases = tuple(p.stat().st_mtime_ns for p in sorted((HERE.parent / "shared").glob("*.experiment.yaml")))
    return dict(_describe(path, (path.stat().st_mtime, bases)))


def available() -> tuple[str, ...]:
    """Every experiment on the search path, in report order (``order``, then id)."""
    names = list(folders())

    def order(n: str):
        try:
            return describe(n)["order"]
        except ExperimentError:   # a broken experiment.yaml: listed last; describing it names the problem
            return float("inf")

    return tuple(sorted(names, key=lambda n: (order(n), n)))


def declared(module_name: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """``(KIND, ALGOS, FIGURES)`` of the experiment module ``module_name`` (its ``__name__``), from its
    ``experiment.yaml``: ``KIND, ALGOS, FIGURES = declared(__name__)``."""
    d = describe(module_name.split(".")[-1])
    return d["kind"], d["algos"], d["figures"]


# ----------------------------------------------------------------------------------------------
# the experiment code
# ----------------------------------------------------------------------------------------------


def get(name: str) -> ModuleType:
    """The experiment's module (``hrlmeta.experiments.<name>``, imported); a clear error if there is none."""
    folder(name)
    return importlib.import_module(f"{__name__}.{name}")


def trainer(name: str):
    """The experiment's training function ``train(algo, seeds, params) -> list[DataFrame]`` (its
    ``training.py``): one table per seed, in the order of ``seeds``. ``batched: true`` in experiment.yaml
    says it trains the seeds it is given as one batch; otherwise :mod:`hrlmeta.pipeline` hands it one seed
    at a time. A clear error where the folder has none."""
    fn = part(name, "train", "training") if (folder(name) / "training.py").exists() else None
    if fn is None:
        raise ExperimentError(f"experiment {name!r}: {folder(name) / 'training.py'} with "
                              "train(algo, seeds, params) -> list of tables is required")
    return fn


def part(name: str, attr: str, module: str | None = None):
    """``attr`` of the experiment's file ``module`` (``training``, ``measures``, ``figures``, ``report``,
    ``oracle``: the folder contract), or of its package where ``module`` is None; None where the folder has
    no such file or the file no such name."""
    if module is None:
        return getattr(get(name), attr, None)
    if not (folder(name) / f"{module}.py").exists():
        return None
    return getattr(importlib.import_module(f"{__name__}.{name}.{module}"), attr, None)


def measures(name: str) -> dict:
    """The experiment's named measures (``MEASURES`` of its ``measures.py``; empty where it has none)."""
    m = part(name, "MEASURES", "measures")
    return dict(m) if m else {}


def check_algo(name: str, algo: str) -> None:
    algos = describe(name)["algos"]
    if algo not in algos:
        raise ExperimentError(
            f"experiment {name!r} has no algorithm {algo!r}; its algorithms: {', '.join(algos)}"
        )


def schema_path(name: str) -> Path:
    """The JSON schema (YAML) of the experiment's ``params`` block."""
    return folder(name) / "schema.yaml"


def claims_path(name: str) -> Path | None:
    p = folder(name) / "claims.yaml"
    return p if p.exists() else None


# ----------------------------------------------------------------------------------------------
# cost units (torch-free)
# ----------------------------------------------------------------------------------------------

_MISSING = object()
_SAFE = {"len": len, "sum": sum, "int": int, "float": float, "min": min, "max": max, "abs": abs,
         "round": round, "range": range, "True": True, "False": False, "None": None}


def cost_units(name: str, algo: str, params: dict, batch: int = 1) -> float:
    """Cost units of one seed of ``algo`` (``cost.units`` of ``experiment.yaml``; 1 where it has none),
    trained in a job of ``batch`` seeds (an experiment that trains a job's seeds as one batch shares the
    per-update overhead among them: its cost may use ``batch_seeds``, the number of seeds in the job).

    ``cost.units`` and each ``cost.let`` entry are Python expressions over ``algo``, ``params``, ``batch_seeds``,
    ``p(dotted.path, default)`` (a value of ``params``, completed with its schema's defaults; KeyError naming the
    path where it is missing and no default is given), the names defined before them in ``let``, and ``len``, ``sum``, ``int``,
    ``float``, ``min``, ``max``, ``abs``, ``round``, ``range``."""
    cost = describe(name).get("cost")
    if not cost:
        return 1.0
    if isinstance(params, dict):   # completed as the config loader completes a block; a broken schema: the checks say
        from ..config import ConfigError, complete_params

        try:
            params = complete_params(name, params, REGISTRY)
        except (ConfigError, OSError):
            pass

    def p(path: str, default=_MISSING):
        node = params
        for k in path.split("."):
            if not isinstance(node, dict) or k not in node:
                if default is _MISSING:
                    raise ExperimentError(f"experiment {name!r}: cost units need params.{path}")
                return default
            node = node[k]
        return node

    if int(batch) < 1:
        raise ExperimentError(f"experiment {name!r}: cost units need a batch of at least 1 seed, got {batch!r}")
    ns = {"__builtins__": {}, **_SAFE, "algo": algo, "params": params, "p": p, "batch_seeds": int(batch)}
    for key, expr in (cost.get("let") or {}).items():
        ns[key] = _eval(name, f"cost.let.{key}", expr, ns)
    return float(_eval(name, "cost.units", cost["units"], ns))


def _eval(name: str, where: str, expr: str, ns: dict):
    try:
        return eval(compile(expr, f"<{name}/experiment.yaml {where}>", "eval"), ns)  # noqa: S307 (trusted file)
    except ExperimentError:
        raise
    except Exception as e:
        raise ExperimentError(f"experiment {name!r}: {where} = {expr!r} failed: {type(e).__name__}: {e}") from None


# ----------------------------------------------------------------------------------------------
# the object handed to the core
# ----------------------------------------------------------------------------------------------


class Registry:
    """What the core (claims, config, plan, report, pipeline, golden) knows of the experiments; built by
    the entry points (:func:`default`) and passed in."""

    def available(self) -> tuple[str, ...]:
        return available()

    def describe(self, name: str) -> dict:
        return describe(name)

    def get(self, name: str) -> ModuleType:
        return get(name)

    def part(self, name: str, attr: str, module: str | None = None):
        return part(name, attr, module)

    def trainer(self, name: str):
        return trainer(name)

    def check_algo(self, name: str, algo: str) -> None:
        check_algo(name, algo)

    def measures(self, name: str) -> dict:
        return measures(name)

    def schema_path(self, name: str) -> Path:
        return schema_path(name)

    def claims_path(self, name: str) -> Path | None:
        return claims_path(name)

    def cost_units(self, name: str, algo: str, params: dict, batch: int = 1) -> float:
        return cost_units(name, algo, params, batch)


#: the registry of this installation (this package + ``$HRLMETA_EXPERIMENTS``), as the entry points hand it on
REGISTRY = Registry()


def default() -> Registry:
    return REGISTRY


# keep the package importable as a plugin path from the start
try:
    _sync_package_path(search_path()[1:])
except ExperimentError as _e:  # a bad HRLMETA_EXPERIMENTS is reported when an experiment is looked up
    print(f"warning: {_e}", file=sys.stderr)


def __getattr__(attr: str):
    if attr == "EXPERIMENTS":  # every experiment, in report order (computed: the search path may change)
        return available()
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
