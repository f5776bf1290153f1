"""``hrlmeta check``: every mistake a user can make in the inputs, found before any training starts.

Checked, each problem one line naming the file, the key and the offending value (with the known alternatives
for a name):

* every YAML file the run reads parses, has a mapping at its top level where one is expected, and holds no
  duplicate key (PyYAML keeps the last silently);
* the config (``config/config.yaml`` merged with each ``--configfile`` overlay, as Snakemake merges them)
  against the top-level schema and each experiment's ``schema.yaml``; an unknown experiment or algorithm is
  named with its closest known spellings;
* every experiment folder has the files of the folder contract (``training.py``; ``figures.py`` where it
  declares figures; ``report.md`` beside a ``report.py``);
* every ``experiment.yaml`` (its description schema) and every ``claims.yaml`` (claim schema, statistic,
  robustness paths, measure name and the measure's parameters, for the primary and every robustness
  specification), and the posings against their frozen fingerprints (``claims.lock``);
* the cost rates (``config/costs.yaml``) of every enabled experiment's algorithms.

The workflow runs :func:`problems` on its own config when it builds the DAG (``workflow/rules/common.smk``),
so ``snakemake -n`` stops on the first line of the same report.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from .config import DEFAULT_CONFIG, ConfigError, deep_merge, load_schema


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The safe loader (libyaml's parser where PyYAML has it) that refuses a mapping with the same key twice."""


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            continue
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1}, again at line "
                            f"{key_node.start_mark.line + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path, want_mapping: bool = True):
    """``(document, problem)``: the parsed file, or None and one line saying why not."""
    path = Path(path)
    if not path.exists():
        return None, f"{path}: file not found"
    try:
        doc = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        what = getattr(e, "problem", None) or str(e).splitlines()[0]  # a duplicate key's own message too
        return None, f"{path}: {where}{what}"
    if doc is None:
        doc = {}
    if want_mapping and not isinstance(doc, dict):
        return None, f"{path}: the top level must be a mapping of keys, got a {type(doc).__name__}"
    return doc, None


def _alternatives(name: str, known) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=3, cutoff=0.6)
    return f"did you mean {', '.join(close)}? known: {', '.join(known)}" if close else f"known: {', '.join(known)}"


def _at(where: str) -> str:
    """A problem line's opening: the file(s) it is about, if any."""
    return f"{where}: " if where else ""


def _schema_lines(instance, schema: dict, prefix: str, where: str) -> list[str]:
    import jsonschema

    validator = jsonschema.validators.validator_for(schema)(schema)
    out = []
    for e in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        path = ".".join(str(p) for p in e.absolute_path)
        key = ".".join(p for p in (prefix, path) if p) or "<top level>"
        if e.validator == "additionalProperties":
            extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
            known = sorted(e.schema.get("properties", {}))
            for k in extra:
                out.append(f"{_at(where)}{key + '.' if key != '<top level>' else ''}{k}: unknown key ({_alternatives(k, known)})")
        elif e.validator == "enum":
            out.append(f"{_at(where)}{key}: {e.instance!r} is not one of {e.validator_value!r}")
        else:
            out.append(f"{_at(where)}{key}: {e.message}")
    return out


def config_problems(cfg: dict, registry, where: str = "config") -> list[str]:
    """Problems of a merged config (the top-level schema, each experiment's params, algorithms)."""
    if not isinstance(cfg, dict):
        return [f"{_at(where)}the top level must be a mapping of keys, got a {type(cfg).__name__}"]
    out = []
    known = list(registry.available())
    exps = cfg.get("experiments")
    if isinstance(exps, dict):
        for name in exps:
            if name not in known:
                out.append(f"{_at(where)}experiments.{name}: unknown experiment ({_alternatives(name, known)})")
    unknown = {n for n in (exps or {}) if n not in known}
    # the schema's messages about an unknown experiment's block would only repeat it
    top = [ln for ln in _schema_lines(cfg, load_schema("config"), "", where)
           if not any(f": experiments.{n}" in ln for n in unknown)]
    out += top
    if top:
        return out
    from .config import only_names

    for name in only_names(cfg) or []:
        if name not in known:
            out.append(f"{_at(where)}only: {name!r} is not an experiment ({_alternatives(name, known)})")
        elif name not in (exps or {}) or not ((exps or {}).get(name) or {}).get("enabled", True):
            out.append(f"{_at(where)}only: {name!r} is not enabled in this config (experiments.{name}.enabled: false "
                       "or no block): enable it in an overlay (e.g. config/paper.yaml) to run it")
    for name, block in (exps or {}).items():
        if name in unknown:
            continue
        params = (block or {}).get("params", {})
        out += _schema_lines(params, load_schema(name, registry), f"experiments.{name}.params", where)
        algos = registry.describe(name)["algos"]
        for algo in (block or {}).get("algos", []) or []:
            if algo not in algos:
                out.append(f"{_at(where)}experiments.{name}.algos: unknown algorithm {algo!r} "
                           f"({_alternatives(algo, algos)})")
    return out


def load_merged(base, overlays) -> tuple[dict | None, list[str]]:
    """The config as Snakemake merges it, or the problems of its files."""
    out, cfg = [], {}
    for path in [base, *overlays]:
        doc, problem = read_yaml(path)
        if problem:
            out.append(problem)
            continue
        cfg = deep_merge(cfg, doc)
    return (None if out else cfg), out


def _module_file(path: Path, module: str | None, level: int) -> Path | None:
    """The file of ``from <level dots><module> import ...`` written in ``path`` (package-relative)."""
    base = path.parent
    for _ in range(max(level - 1, 0)):
        base = base.parent
    if level == 0:
        if not (module or "").startswith("hrlmeta."):
            return None
        base, module = Path(__file__).resolve().parent, module.split(".", 1)[1]
    rel = Path(*(module or "").split(".")) if module else Path()
    for cand in (base / rel.with_suffix(".py"), base / rel / "__init__.py"):
        if cand.exists():
            return cand
    return None


def static_measures(path) -> dict:
    """An experiment's measures read from the source of its ``measures.py`` without importing it (building
    the DAG must not import torch): each ``@MEASURES.register(name, properties, required=...)``, its
    parameter schema evaluated from literals and the module's constant assignments (None where it cannot be,
    so that only the name is checked). Follows ``from ... import MEASURES``."""
    import ast

    from .claims import Measure

    path = Path(path)
    tree = ast.parse(path.read_text())
    consts: dict = {}
    out: dict = {}

    def value(node):
        return eval(compile(ast.Expression(node), str(path), "eval"), {"__builtins__": {}}, dict(consts))  # noqa: S307

    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "MEASURES" for a in node.names):
            src = _module_file(path, node.module, node.level)
            if src is not None:
                out.update(static_measures(src))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                consts[node.targets[0].id] = value(node.value)
            except Exception:  # noqa: BLE001 -- not a constant
                pass
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)
                        and dec.func.attr == "register" and dec.args and isinstance(dec.args[0], ast.Constant)):
                    continue
                name = dec.args[0].value
                try:
                    props = value(dec.args[1]) if len(dec.args) > 1 else {}
                    kw = {k.arg: value(k.value) for k in dec.keywords if k.arg in ("required", "properties")}
                    props = kw.get("properties", props)
                    required = kw.get("required", value(dec.args[2]) if len(dec.args) > 2 else ())
                    schema = {"type": "object", "additionalProperties": False, "properties": dict(props or {}),
                              "required": list(required)}
                except Exception:  # noqa: BLE001 -- a schema built at run time: check the name only
                    schema = None
                out[name] = Measure(name, None, schema)
    return out


def _check_static(c: dict, measures: dict, where: str) -> None:
    from .claims import check_measure

    m = measures.get(c["measure"])
    if m is not None and m.schema is None:
        return  # the name is known; its parameters are checked by `hrlmeta check` (which imports it)
    check_measure(c, measures, where)


def _folder_files(folder: Path, desc: dict) -> list[str]:
    """The files the folder contract asks for (docs/adding-an-experiment.md), by name; nothing is imported."""
    out = []
    if not (folder / "training.py").exists():
        out.append(f"{folder / 'training.py'}: missing (the experiment's training: train(algo, seeds, params) "
                   "-> one table per seed)")
    if desc.get("figures") and not (folder / "figures.py").exists():
        out.append(f"{folder / 'figures.py'}: missing (experiment.yaml figures: {', '.join(desc['figures'])}; "
                   "figures(table, params, outdir) draws them)")
    if (folder / "report.py").exists() and not (folder / "report.md").exists():
        out.append(f"{folder / 'report.md'}: missing (report.py's context() fills the template report.md)")
    return out


def experiment_problems(registry, posings: bool = True, imports: bool = True) -> list[str]:
    """experiment.yaml, schema.yaml and claims.yaml of every experiment: parse, duplicates, schemas, claims
    (measure names and parameters) and frozen posings."""
    from . import posing
    from .claims import ClaimError, check_measure, load_claims

    out = []
    for name in registry.available():
        folder = Path(registry.schema_path(name)).parent
        unreadable = False
        for fname in ("experiment.yaml", "schema.yaml", "claims.yaml"):
            p = folder / fname
            if p.exists():
                _, problem = read_yaml(p)
                if problem:
                    out.append(problem)
                    unreadable = unreadable or fname == "experiment.yaml"
        if unreadable:
            continue
        try:
            desc = registry.describe(name)
        except Exception as e:  # noqa: BLE001 -- a broken description is reported, not raised
            out.append(f"{folder / 'experiment.yaml'}: {str(e).splitlines()[0]}")
            continue
        out += _folder_files(folder, desc)
        path = registry.claims_path(name)
        if path is None:
            continue
        try:
            claims = load_claims(path, experiment=name)
        except (ClaimError, ConfigError) as e:
            out.append(str(e).splitlines()[0])
            continue
        try:
            if imports:
                measures = registry.measures(name)
            else:
                mfile = folder / "measures.py"
                measures = static_measures(mfile) if mfile.exists() else {}
        except Exception as e:  # noqa: BLE001
            out.append(f"{folder / 'measures.py'}: cannot be {'imported' if imports else 'read'}: "
                       f"{type(e).__name__}: {e}")
            continue
        for c in claims:
            try:
                (check_measure if imports else _check_static)(c, measures, str(path))
            except ClaimError as e:
                msg = str(e)
                if "unknown measure" in msg:
                    msg = (f"{path}: claim {c['id']!r}: measure: unknown measure {c['measure']!r} "
                           f"({_alternatives(c['measure'], sorted(measures))})")
                out.append(msg)
    out += posing.problems(registry) if posings and not out else []
    return out


def cost_problems(cfg: dict, registry, costs_path=None) -> list[str]:
    from .config import enabled_experiments
    from .plan import COSTS, load_costs, rate

    path = Path(costs_path or COSTS)
    doc, problem = read_yaml(path)
    if problem:
        return [problem]
    costs = load_costs(path)
    out = []
    for name in enabled_experiments(cfg, registry):
        for algo in cfg["experiments"][name].get("algos", registry.describe(name)["algos"]):
            if rate(costs, name, algo, registry) is None:
                out.append(f"{path}: experiments.{name}.cpu_s_per_unit.{algo}: no measured rate and no estimate in "
                           f"{name}/experiment.yaml cost.cpu_s_per_unit (the plan and the cluster requests cannot "
                           "price this job: measure it with `hrlmeta plan --calibrate` or "
                           "`python -m hrlmeta.bench marginal_rate ... --write`)")

    return out


def workflow_problems(cfg: dict, registry, files=()) -> list[str]:
    """The checks of :func:`problems` on a config Snakemake has already merged from ``files`` (its config files:
    Snakemake's own YAML reader keeps the last of two equal keys silently, so each file is read again here for
    duplicate keys). The measures are read from their source, not imported (the DAG is built without torch).
    Posings that are not frozen and missing cost rates do not stop a run (``hrlmeta check`` and the test suite
    report them; the workflow warns of the rates: :func:`cost_problems`)."""
    out = [p for p in (read_yaml(f)[1] for f in files) if p]
    out += config_problems(cfg, registry, "config (config/config.yaml + --configfile overlays + --config)")
    out += experiment_problems(registry, posings=False, imports=False)
    return out


def problems(registry, overlays=(), base=DEFAULT_CONFIG, costs_path=None, only=None) -> list[str]:
    """Every problem of the inputs of a run with these overlays (and ``only``), one line each (empty: all is
    well)."""
    from .config import restrict

    from .config import with_folder_blocks

    cfg, out = load_merged(base, overlays)
    exp_out = experiment_problems(registry)
    if any(f"{Path('experiment.yaml')}:" in line for line in exp_out):
        cfg = None       # an experiment that cannot be described: its own line says why; the config waits
    if cfg is not None and isinstance(cfg, dict):
        cfg = with_folder_blocks(restrict(cfg, only), registry)
    if cfg is not None:
        where = " + ".join(str(p) for p in [base, *overlays])
        out += config_problems(cfg, registry, where)
    out += exp_out
    if cfg is not None and not out:
        out += cost_problems(cfg, registry, costs_path)
    return out
