"""An earlier commit's version of one hrlmeta module, imported beside today's, for benchmarks that report
a speed ratio "against commit X, in the same process".

``load("algos/rl2.py", "3a2a998")`` reads ``src/hrlmeta/algos/rl2.py`` as it was at that commit (``git
show`` in the checkout this package is installed from) and executes it as the module
``hrlmeta.algos._at_3a2a998_rl2``, so its relative imports (``from .. import blas``) resolve to today's
sibling modules: only the named file is the old one. Where the package is not a git checkout (an
installed wheel) or the commit is unknown, :class:`BaselineUnavailable` says why, and the benchmark
reports that instead of a ratio.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]          # .../src/hrlmeta


class BaselineUnavailable(RuntimeError):
    """The earlier commit's file cannot be read (no git checkout, unknown commit, file absent)."""


def source(relpath: str, commit: str) -> str:
    """Text of ``src/hrlmeta/<relpath>`` at ``commit``."""
    try:
        top = subprocess.run(["git", "-C", str(PACKAGE_DIR), "rev-parse", "--show-toplevel"], check=True,
                             capture_output=True, text=True).stdout.strip()
        rel = (PACKAGE_DIR / relpath).resolve().relative_to(Path(top).resolve())
        return subprocess.run(["git", "-C", top, "show", f"{commit}:{rel.as_posix()}"], check=True,
                              capture_output=True, text=True).stdout
    except (OSError, ValueError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        raise BaselineUnavailable(f"cannot read src/hrlmeta/{relpath} at {commit}: {detail.strip()}") from e


#: modules renamed since the baselines were committed: an old file's imports of them are read as today's names
RENAMED = {"pipeline_env": "numerics", "opprobe": "golden_probe", "landing": "front_page",
           "seedblog_maml": "listing_maml", "seedblog_fourrooms": "listing_fourrooms"}


def _renamed_imports(text: str) -> str:
    import re

    def fix(m):
        line = m.group(0)
        for old, new in RENAMED.items():
            line = re.sub(rf"\b{old}\b", new, line)
        return line

    return re.sub(r"^\s*(from|import) [^\n]+$", fix, text, flags=re.M)


def load(relpath: str, commit: str) -> types.ModuleType:
    """Import ``src/hrlmeta/<relpath>`` as of ``commit`` beside today's module (see the module docstring); its
    imports of modules renamed since (:data:`RENAMED`) read today's names."""
    parts = Path(relpath).with_suffix("").parts
    package = ".".join(("hrlmeta", *parts[:-1]))
    name = f"{package}._at_{commit}_{parts[-1]}"
    if name in sys.modules:
        return sys.modules[name]
    text = _renamed_imports(source(relpath, commit))
    module = types.ModuleType(name)
    module.__package__ = package
    module.__file__ = f"<{commit}:src/hrlmeta/{relpath}>"
    sys.modules[name] = module        # dataclasses and pickling look the module up by name
    try:
        exec(compile(text, module.__file__, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module


BASELINE = "3a2a998"   #: the commit the rl2 and maml benchmarks compare today's code with


def alternated(fns: dict, repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median wall seconds of each function of ``fns`` ({label: fn}), the calls alternated (label by label,
    ``repeats`` rounds after ``warmup`` rounds) so that both sides see the same machine state."""
    import statistics
    import time

    times: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(warmup + repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            if r >= warmup:
                times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}
