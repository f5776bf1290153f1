"""Progress bars for long loops: shown when a person runs a command in a terminal, silent in
Snakemake logs and tests (stderr is not a TTY there). ``HRLMETA_PROGRESS=0/1`` forces it."""

from __future__ import annotations

import os
import sys


def enabled() -> bool:
    force = os.environ.get("HRLMETA_PROGRESS")
    if force is not None:
        return force not in ("0", "", "false", "no")
    return sys.stderr.isatty()


def progress(iterable=None, **kwargs):
    """``tqdm(iterable, **kwargs)`` when enabled, else the iterable itself (or a no-op bar)."""
    if enabled():
        from tqdm.auto import tqdm

        return tqdm(iterable, **kwargs)
    if iterable is not None:
        return iterable
    return _Null()


class _Null:
    def update(self, *_a, **_k):
        pass

    def set_postfix(self, *_a, **_k):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
