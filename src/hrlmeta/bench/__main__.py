"""``python -m hrlmeta.bench NAME [options]``: run a benchmark, print its JSON as the last line."""

from __future__ import annotations

import importlib
import json
import sys

NAMES = ("fourrooms", "maml", "rl2", "determinism")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m hrlmeta.bench NAME [options]; NAME one of {', '.join(NAMES)}")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in NAMES:
        print(f"unknown benchmark {name!r}; choose one of {', '.join(NAMES)}", file=sys.stderr)
        return 2
    result = importlib.import_module(f"hrlmeta.bench.{name}").main(rest)
    print(json.dumps({"bench": name, **result}, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
