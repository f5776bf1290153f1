"""Experiment registry.

Every experiment is one module in this package, named exactly like the experiment id
(``fourrooms_sutton.py`` is experiment ``fourrooms_sutton``). The workflow, the CLI, the claims
engine and the report only talk to an experiment through the attributes below.

Required
--------
``KIND``: ``"episodic"`` or ``"meta"`` -- which tidy schema its run tables follow
(see :mod:`hrlmeta.tidy`).

``ALGOS``: tuple of algorithm ids the experiment knows.

``train(algo: str, seed: int, params: dict) -> pandas.DataFrame``
    One whole training run, a pure function of (algo, seed, params): same inputs give the same
    rows. Returns the run's tidy rows; the columns ``experiment``, ``algo`` and ``seed`` are added
    (or checked) by the caller, everything else required by the schema must be there.
    ``params`` is the experiment's ``params`` block from the config, already validated against
    ``workflow/schemas/{experiment}.schema.yaml``.

Optional
--------
``FIGURES``: tuple of figure names; the workflow expects
``results/figures/{experiment}_{name}.png`` for each.

``figures(table, params, outdir: pathlib.Path) -> None``
    Draw every figure named in ``FIGURES`` from the experiment's tidy table into ``outdir``.

``claim_samples(claim: dict, table, params) -> hrlmeta.claims.Samples``
    Per-seed values a claim from ``config/claims.yaml`` is decided on (see :mod:`hrlmeta.claims`).

``report_section(table, params) -> str``
    Markdown for the experiment's section of ``results/REPORT.md`` (findings with numbers;
    figures are embedded by the report itself).

``oracle(params) -> dict``
    Exact optimum of the experiment's tabular task(s), printed by ``hrlmeta oracle``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: every experiment that exists, in report order
EXPERIMENTS: tuple[str, ...] = (
    "fourrooms_sutton",
    "fourrooms_seedblog",
    "nav2d_finn",
    "nav2d_seedblog",
    "bandits_duan",
    "tabular_mdp_duan",
    "pointmass_diayn",
    "chain_hdqn",
    "fourrooms_optioncritic",
    "fourrooms_discovery",
    "taxi_maxq",
    "cartpole_meta",
    "cartpole_flip_meta",
    "lunarlander_meta",
    "pointmaze_hiro",
)


def available() -> tuple[str, ...]:
    """Experiments whose module exists in this installation."""
    out = []
    for name in EXPERIMENTS:
        try:
            importlib.util.find_spec(f"{__name__}.{name}")
        except ModuleNotFoundError:  # pragma: no cover
            continue
        if importlib.util.find_spec(f"{__name__}.{name}") is not None:
            out.append(name)
    return tuple(out)


def get(name: str) -> ModuleType:
    """The experiment module ``name``; a clear error if there is none."""
    if name not in EXPERIMENTS:
        raise KeyError(
            f"unknown experiment {name!r}; known experiments: {', '.join(EXPERIMENTS)}"
        )
    mod = importlib.import_module(f"{__name__}.{name}")
    for attr in ("KIND", "ALGOS", "train"):
        if not hasattr(mod, attr):
            raise AttributeError(f"experiment module {mod.__name__} lacks required {attr!r}")
    return mod


def check_algo(name: str, algo: str) -> None:
    mod = get(name)
    if algo not in mod.ALGOS:
        raise KeyError(
            f"experiment {name!r} has no algorithm {algo!r}; its algorithms: {', '.join(mod.ALGOS)}"
        )
