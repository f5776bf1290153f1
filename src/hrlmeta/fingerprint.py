"""Code fingerprints of training: a training job's outputs depend on the code that computed them.

``training_fingerprint(experiment)`` hashes exactly the code a training job of ``experiment`` runs: the
``train`` of the experiment's ``training.py``, every top-level function, class and global of
the same module they name, transitively, and, across modules of the package, every imported name they
reach (``from ..algos.td3 import TD3`` reaches ``TD3`` of ``hrlmeta.algos.td3``; ``blas.mm`` reaches ``mm``
of ``hrlmeta.blas``; a module used as a whole is included whole), plus :func:`hrlmeta.pipeline.train_seeds`,
which writes the run tables. The workflow passes the fingerprint to every training job as a parameter, so
Snakemake reruns exactly the jobs whose code changed (``params`` trigger) and none when only figures,
report prose, claims or measures change, even where those live in the same file as the training code.

What is hashed is each definition's syntax tree (``ast.dump``) without docstrings, so comments, blank
lines and docstrings change nothing. Not followed: names reached only dynamically (``getattr`` with a
computed name), third-party packages (their versions are pinned), and data files.
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = "hrlmeta"
ROOT = Path(__file__).resolve().parent
#: the top-level names of an experiment's package a training job calls (pipeline.train_seeds and train)
TRAIN_ROOTS = ("train", "train_batch", "KIND")
#: the package's own code every training job runs around the experiment's (validation and writing of runs)
PIPELINE_ROOTS = (("hrlmeta.pipeline", "train_seeds"),)


class _Module:
    """One parsed module of the package: its top-level definitions by name, its imported names, the
    top-level statements run at import (always part of the module's contribution)."""

    def __init__(self, name: str, path: Path):
        self.name, self.path = name, path
        tree = ast.parse(path.read_text(), filename=str(path))
        self.defs: dict[str, list[ast.AST]] = {}
        self.imports: dict[str, tuple[str, str | None]] = {}  # local name -> (module, attribute or None)
        self.effects: list[ast.AST] = []
        self.dumps: dict[int, str] = {}   # id(node) -> its dump without docstrings (computed once)
        self.is_package = path.name == "__init__.py"
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.defs.setdefault(node.name, []).append(node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            self.defs.setdefault(n.id, []).append(node)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self.imports.update(_imported(node, self))
            elif isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant):
                continue  # the module's docstring
            elif _is_main_guard(node):
                continue  # `if __name__ == "__main__":` never runs when a training job imports the module
            else:
                self.effects.append(node)  # if/try/with/calls at import time: they run with every import

    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


def _is_main_guard(node: ast.AST) -> bool:
    t = getattr(node, "test", None)
    return (isinstance(node, ast.If) and isinstance(t, ast.Compare) and isinstance(t.left, ast.Name)
            and t.left.id == "__name__" and len(t.comparators) == 1 and isinstance(t.comparators[0], ast.Constant)
            and t.comparators[0].value == "__main__")


#: definitions that are part of no computation: the registry's reading of an experiment.yaml (``declared``
#: returns the folder's KIND, ALGOS, FIGURES; their values are the job's own wildcards and tidy kind) -- not
#: followed, so a change to the description schema or the registry reruns nothing
LEAVES = {("hrlmeta.experiments", "declared")}


def _imported(node: ast.Import | ast.ImportFrom, mod: _Module) -> dict[str, tuple[str, str | None]]:
    """Local names an import statement binds -> (absolute module, attribute or None), package names only."""
    out: dict[str, tuple[str, str | None]] = {}
    if isinstance(node, ast.Import):
        for a in node.names:
            if a.name == PACKAGE or a.name.startswith(PACKAGE + "."):
                local = a.asname or a.name.split(".")[0]
                out[local] = (a.name if a.asname else a.name.split(".")[0], None)
        return out
    if node.level:
        base = mod.package()
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        src = f"{base}.{node.module}" if node.module else base
    else:
        src = node.module or ""
    if not (src == PACKAGE or src.startswith(PACKAGE + ".")):
        return out
    for a in node.names:
        out[a.asname or a.name] = (src, a.name)
    return out


_PARSED: dict[tuple[str, Path], tuple[int, int, _Module]] = {}


def _parsed(name: str, path: Path) -> _Module:
    """A module parsed once per process while its file is unchanged (the workflow fingerprints every job)."""
    st = path.stat()
    hit = _PARSED.get((name, path))
    if hit is not None and hit[:2] == (st.st_mtime_ns, st.st_size):
        return hit[2]
    mod = _Module(name, path)
    _PARSED[(name, path)] = (st.st_mtime_ns, st.st_size, mod)
    return mod


def _strip_docstrings(node: ast.AST) -> ast.AST:
    for n in ast.walk(node):
        body = getattr(n, "body", None)
        if (isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            n.body = body[1:] or [ast.Pass()]
    return node


class _Package:
    def __init__(self, root: Path, experiment_dirs=()):
        self.root = root
        # experiment folders outside the package ($HRLMETA_EXPERIMENTS) import as hrlmeta.experiments.<id> too
        self.experiment_dirs = [Path(d) for d in experiment_dirs]
        self.modules: dict[str, _Module | None] = {}

    def module(self, name: str) -> _Module | None:
        if name not in self.modules:
            rel = name.split(".")[1:]
            bases = [self.root.joinpath(*rel)]
            if rel[:1] == ["experiments"] and len(rel) > 1:
                bases += [d.joinpath(*rel[1:]) for d in self.experiment_dirs]
            self.modules[name] = None
            for path in bases:
                if (path / "__init__.py").is_file():
                    self.modules[name] = _parsed(name, path / "__init__.py")
                    break
                if path.with_suffix(".py").is_file():
                    self.modules[name] = _parsed(name, path.with_suffix(".py"))
                    break
        return self.modules[name]

    def closure(self, roots) -> list[str]:
        """Dumps of every definition reached from ``roots`` ((module, name) pairs; name None = whole module)."""
        seen: set[tuple[str, str | None]] = set()
        todo = list(roots)
        parts: list[str] = []
        while todo:
            key = todo.pop()
            if key in seen or key in LEAVES:
                continue
            seen.add(key)
            modname, name = key
            mod = self.module(modname)
            if mod is None:
                continue
            if (modname, "<effects>") not in seen:
                seen.add((modname, "<effects>"))
                nodes = [("<effects>", n) for n in mod.effects]
                if not mod.is_package and "." in modname:   # a submodule runs its package's __init__ first
                    todo.append((modname.rpartition(".")[0], "<init>"))
            else:
                nodes = []
            if name == "<init>":
                pass
            elif name is None:
                nodes += [(k, n) for k, ns in sorted(mod.defs.items()) for n in ns]
                todo += [v for v in mod.imports.values()]
            elif name in mod.defs:
                nodes += [(name, n) for n in mod.defs[name]]
            elif name in mod.imports:
                todo.append(self._target(*mod.imports[name]))
            elif self.module(f"{modname}.{name}") is not None:   # a submodule named through its package
                todo.append((f"{modname}.{name}", None))
            for label, node in nodes:
                d = mod.dumps.get(id(node))
                if d is None:
                    d = mod.dumps[id(node)] = ast.dump(_strip_docstrings(_copy(node)))
                parts.append(f"{modname}:{label}:{d}")
                todo += self._references(mod, node)
        return sorted(parts)

    def _target(self, module: str, attr: str | None) -> tuple[str, str | None]:
        if attr is None:
            return (module, None)
        if self.module(f"{module}.{attr}") is not None:
            return (f"{module}.{attr}", None)
        return (module, attr)

    def _references(self, mod: _Module, node: ast.AST) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = []
        attr_bases: set[int] = set()
        nodes = list(ast.walk(node))
        local: dict[str, tuple[str, str | None]] = {}
        for n in nodes:
            if isinstance(n, (ast.Import, ast.ImportFrom)):      # imports inside functions
                for name, (m, a) in _imported(n, mod).items():
                    local[name] = (m, a)
                    out.append(self._target(m, a))
        for n in nodes:
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name):
                target = self._alias_module(mod, local, n.value.id)
                if target is not None:
                    out.append(self._target(target, n.attr))
                    attr_bases.add(id(n.value))
        for n in nodes:
            if isinstance(n, ast.Name) and id(n) not in attr_bases:
                if n.id in mod.defs or n.id in mod.imports:
                    out.append((mod.name, n.id))
                    if n.id in mod.imports:
                        out.append(self._target(*mod.imports[n.id]))
        return out

    def _alias_module(self, mod: _Module, local: dict, name: str) -> str | None:
        """The package module a bare name stands for (``blas`` after ``from .. import blas``), or None;
        ``local``: the names the definition's own imports bind."""
        src = local.get(name) or mod.imports.get(name)
        if src is None:
            return None
        m, a = self._target(*src)
        return m if a is None else None


def _copy(node: ast.AST) -> ast.AST:
    import copy

    return copy.deepcopy(node)


def digest(parts: list[str]) -> str:
    """sha256 (16 hex digits) of a closure's definitions."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def fingerprint(roots, root: Path = ROOT) -> str:
    """The digest of the definitions reached from ``roots`` ((module, name) pairs)."""
    return digest(_Package(Path(root)).closure(list(roots)))


def _dirs(experiment: str, registry) -> list[Path]:
    """Where an experiment folder outside the package lives (from the registry, which knows the search path)."""
    if registry is None:
        return []
    folder = Path(registry.schema_path(experiment)).parent
    return [folder.parent] if folder.parent.resolve() != (ROOT / "experiments").resolve() else []


def _roots(experiment: str, algo: str | None, root: Path, dirs=()) -> list[tuple[str, str | None]]:
    """The training entry points of an experiment; an experiment that hands each algorithm to a submodule
    of its folder by name (``MODULES = {algo: submodule}``, a literal dict, imported dynamically) adds that
    algorithm's submodule (every one when ``algo`` is None)."""
    mod = f"{PACKAGE}.experiments.{experiment}"
    roots: list[tuple[str, str | None]] = [(mod, n) for n in TRAIN_ROOTS] + list(PIPELINE_ROOTS)
    pkg = _Package(Path(root), dirs)
    m = pkg.module(mod)
    if m is None:
        raise ValueError(f"fingerprint: no source of experiment {experiment!r} under {root} or $HRLMETA_EXPERIMENTS")
    if pkg.module(f"{mod}.training") is not None:   # the folder's training.py
        roots += [(f"{mod}.training", "train")]
    for where in (mod, f"{mod}.training"):
        w = pkg.module(where)
        for node in (w.defs.get("MODULES", []) if w is not None else []):
            if isinstance(node, ast.Assign):
                table = ast.literal_eval(node.value)
                names = [table[algo]] if algo is not None and algo in table else ([] if algo else list(table.values()))
                roots += [(f"{mod}.{n}", entry) for n in names for entry in ("train_batch", "train")]
    return roots


#: data files a training job reads while it runs, by the definition that reads them ("module:name"): their text
#: joins the fingerprint of every job whose code reaches that definition (a default changed there changes the run)
DATA_FILES = {"hrlmeta.shared.meta_task_family:with_defaults": "shared/meta_task_family.schema.yaml"}


def _with_data_files(parts: list[str], root: Path) -> list[str]:
    extra = []
    for where, rel in DATA_FILES.items():
        if any(p.startswith(where + ":") for p in parts):
            f = Path(root) / rel
            extra.append(f"data:{rel}:{hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else 'missing'}")
    return parts + extra


@lru_cache(maxsize=None)
def training_fingerprint(experiment: str, algo: str | None = None, root: Path = ROOT, registry=None) -> str:
    """The fingerprint of the code a training job of ``experiment`` (and ``algo``) runs (module docstring), and
    of the data files it reads (:data:`DATA_FILES`). ``registry``: where experiment folders outside the package
    are found (the workflow hands its own)."""
    dirs = _dirs(experiment, registry)
    parts = _Package(Path(root), dirs).closure(_roots(experiment, algo, root, dirs))
    return digest(_with_data_files(parts, Path(root)))


def reached(experiment: str, algo: str | None = None, root: Path = ROOT, registry=None) -> list[str]:
    """``module:name`` of every definition a training job of ``experiment`` depends on (for inspection)."""
    dirs = _dirs(experiment, registry)
    parts = _Package(Path(root), dirs).closure(_roots(experiment, algo, root, dirs))
    return sorted({":".join(p.split(":", 2)[:2]) for p in parts})
