"""``hrlmeta`` command line: run one step of the pipeline by hand, exactly as the workflow does.

Examples::

    hrlmeta list
    hrlmeta train --experiment fourrooms_sutton --algo intra_option_q --seed 3 --out run.parquet
    hrlmeta train ... --config config/smoke.yaml          # an overlay on config/config.yaml
    hrlmeta oracle --experiment fourrooms_sutton           # last line: JSON
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _config(args) -> dict:
    from .config import load_config, validate_config

    if getattr(args, "config_json", None):
        return validate_config(json.loads(args.config_json))
    return load_config(*(args.config or []))


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", nargs="*", metavar="YAML",
        help="overlay file(s) merged on top of config/config.yaml (e.g. config/smoke.yaml)",
    )
    p.add_argument("--config-json", help="the whole, already merged config as JSON (used by the workflow)")


def _tables(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        exp, _, path = pair.partition("=")
        if not path:
            raise SystemExit(f"--table expects EXPERIMENT=PATH, got {pair!r}")
        out[exp] = path
    return out


def cmd_list(args) -> int:
    from . import experiments as registry

    for name in registry.available():
        mod = registry.get(name)
        print(f"{name} ({mod.KIND}): {', '.join(mod.ALGOS)}")
    return 0


def cmd_train(args) -> int:
    from . import pipeline
    from .config import ConfigError, experiment_params

    if args.params_json is not None:
        # the workflow passes the experiment's (already validated) params block directly
        from .config import _check, load_schema

        params = json.loads(args.params_json)
        _check(params, load_schema(args.experiment), f"experiments.{args.experiment}.params")
    else:
        cfg = _config(args)
        if args.experiment not in cfg["experiments"]:
            raise ConfigError(f"experiments.{args.experiment}: not in the config")
        params = experiment_params(cfg, args.experiment)
    seeds = args.seed
    if len(seeds) > 1 and "{seed}" not in str(args.out):
        raise ConfigError(f"--out {args.out}: several seeds need a '{{seed}}' placeholder in the path")
    from .progress import progress

    for seed in progress(seeds, desc=f"{args.experiment}/{args.algo}", unit="seed", disable=len(seeds) < 2):
        pipeline.train(args.experiment, args.algo, seed, params, str(args.out).replace("{seed}", str(seed)))
    return 0


def cmd_oracle(args) -> int:
    from . import experiments as registry
    from .config import experiment_params

    cfg = _config(args)
    mod = registry.get(args.experiment)
    if not hasattr(mod, "oracle"):
        raise SystemExit(f"experiment {args.experiment!r} has no exact oracle")
    print(json.dumps(mod.oracle(experiment_params(cfg, args.experiment))))
    return 0


def cmd_table(args) -> int:
    from . import pipeline

    pipeline.build_table(args.experiment, args.runs, args.out)
    return 0


def cmd_figures(args) -> int:
    from . import pipeline
    from .config import experiment_params

    cfg = _config(args)
    pipeline.figures(args.experiment, args.table, experiment_params(cfg, args.experiment), args.outdir)
    return 0


def cmd_claims(args) -> int:
    from . import pipeline

    cfg = _config(args)
    df = pipeline.claims(cfg, _tables(args.table), args.out, args.notes, args.robustness, args.budget)
    for _, r in df.iterrows():
        print(f"{r.claim_id}: {r.verdict} (estimate {r.estimate:.4g}, CI [{r.ci_low:.4g}, {r.ci_high:.4g}])")
    return 0


def cmd_claims_figures(args) -> int:
    from . import speccurve
    from .claims import load_claims

    cfg = _config(args)
    declared = load_claims(cfg.get("claims", "config/claims.yaml"))
    for p in speccurve.write_figures(args.robustness, args.claims, declared, args.outdir, args.ids):
        print(f"wrote {p}")
    return 0


def cmd_report(args) -> int:
    from . import report

    cfg = _config(args)
    report.build(cfg, args.claims, args.notes, _tables(args.table), args.figures_dir, args.out, args.config_files,
                 robustness_tsv=args.robustness, budget_json=args.budget)
    print(f"wrote {args.out}")
    return 0


def cmd_plan(args) -> int:
    from . import plan
    from .config import load_config
    from .tidy import atomic_write_text

    cfg = load_config(*(args.configfile or []))
    if args.calibrate:
        import platform

        import yaml

        where = args.measured_on or f"{platform.machine()} {platform.processor() or ''}".strip()
        new = plan.calibrate(args.calibrate, cfg, measured_on=where)
        costs = plan.merge_costs(plan.load_costs(args.costs), new)
        header = (
            "# Measured CPU seconds per cost unit of each experiment's algorithms (see src/hrlmeta/plan.py).\n"
            "# Written by `hrlmeta plan --calibrate results [--configfile ...]` from the training jobs' logs\n"
            "# of a real run made with that config; `hrlmeta plan` and the Slurm requests use it.\n"
        )
        atomic_write_text(args.costs or plan.COSTS, header + yaml.safe_dump(costs, sort_keys=False))
        print(f"calibrated {sum(len(e['cpu_s_per_unit']) for e in new['experiments'].values())} "
              f"algorithms from {args.calibrate} -> {args.costs or plan.COSTS}")
    result = plan.plan(cfg, plan.load_costs(args.costs))
    print(plan.format_plan(result))
    print(json.dumps(result))
    return 0


def cmd_golden(args) -> int:
    from pathlib import Path

    from . import golden

    return golden.main(write_files=args.write, as_json=args.json, overlays=tuple(args.overlay),
                       ops_only=args.ops_only, ops_file=Path(args.ops_file) if args.ops_file else golden.OPS_FILE)


def cmd_readme_table(args) -> int:
    from . import readme

    note = Path(args.note_file).read_text() if args.note_file else (args.note or "")
    snapshot = args.snapshot or readme.BLOCKS[args.block][2]
    block = readme.write(args.claims, args.readme, args.listing, None if args.no_snapshot else snapshot, note,
                         block=args.block)
    print(block)
    print(f"wrote the {args.block} claims table of {args.readme}" + ("" if args.no_snapshot else f" and {snapshot}"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="hrlmeta", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("list", help="experiments and their algorithms")
    p.set_defaults(fn=cmd_list)

    p = sub.add_parser("train", help="one training run (or several seeds in turn) -> tidy parquet")
    p.add_argument("--experiment", required=True)
    p.add_argument("--algo", required=True)
    p.add_argument("--seed", type=int, nargs="+", required=True, help="seed(s); one run per seed")
    p.add_argument("--out", required=True, help="output path; with several seeds it must contain {seed}")
    p.add_argument("--threads", type=int, default=1, help="cores for this run (BLAS/OpenMP/numba/torch pools)")
    p.add_argument("--params-json", default=None, help="the experiment's params block as JSON (workflow)")
    _add_config(p)
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("oracle", help="exact optimum of an experiment's tabular task(s), JSON on the last line")
    p.add_argument("--experiment", required=True)
    _add_config(p)
    p.set_defaults(fn=cmd_oracle)

    p = sub.add_parser("plan", help="jobs and estimated CPU-hours of a config, JSON on the last line")
    p.add_argument("--configfile", nargs="*", metavar="YAML",
                   help="overlay file(s) merged on top of config/config.yaml (e.g. config/paper.yaml)")
    p.add_argument("--costs", default=None, help="measured costs file (default config/costs.yaml)")
    p.add_argument("--calibrate", metavar="RESULTS_DIR", default=None,
                   help="first measure CPU s per unit from the training logs under RESULTS_DIR/logs/train "
                        "of a run made with this config, and update the costs file")
    p.add_argument("--measured-on", default=None, help="machine description stored with a calibration")
    p.set_defaults(fn=cmd_plan)

    p = sub.add_parser("table", help="concatenate run tables into the experiment's tidy table")
    p.add_argument("--experiment", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("runs", nargs="+")
    p.set_defaults(fn=cmd_table)

    p = sub.add_parser("figures", help="draw an experiment's figures from its tidy table")
    p.add_argument("--experiment", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--outdir", required=True, type=Path)
    _add_config(p)
    p.set_defaults(fn=cmd_figures)

    p = sub.add_parser("claims", help="decide every declared claim -> claims.tsv")
    p.add_argument("--table", action="append", metavar="EXPERIMENT=PATH", default=[])
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--notes", type=Path, default=None)
    p.add_argument("--robustness", type=Path, default=None, help="robustness.tsv: one row per specification")
    p.add_argument("--budget", type=Path, default=None, help="budget.json: training budget vs the paper's")
    _add_config(p)
    p.set_defaults(fn=cmd_claims)

    p = sub.add_parser("claims-figures", help="specification-curve figures from robustness.tsv")
    p.add_argument("--robustness", required=True)
    p.add_argument("--claims", required=True)
    p.add_argument("--outdir", required=True, type=Path)
    p.add_argument("--ids", nargs="*", default=None, help="claim ids to draw (default: every claim with robustness)")
    _add_config(p)
    p.set_defaults(fn=cmd_claims_figures)

    p = sub.add_parser("report", help="write REPORT.md")
    p.add_argument("--table", action="append", metavar="EXPERIMENT=PATH", default=[])
    p.add_argument("--claims", required=True)
    p.add_argument("--notes", default=None)
    p.add_argument("--robustness", default=None)
    p.add_argument("--budget", default=None)
    p.add_argument("--figures-dir", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--config-files", nargs="*", default=None, help="config files named in the report")
    _add_config(p)
    p.set_defaults(fn=cmd_report)

    from .readme import LISTING, README

    p = sub.add_parser("readme-table", help="rewrite README.md's claims table from a claims.tsv "
                                            "(the claims listed in docs/readme_claims.yaml)")
    p.add_argument("--claims", default="results/claims/claims.tsv", help="claims.tsv of a default-scale run")
    p.add_argument("--readme", type=Path, default=README)
    p.add_argument("--listing", type=Path, default=LISTING, help="which claims, in which order, with labels")
    p.add_argument("--snapshot", type=Path, default=None,
                   help="where the listed rows are saved (the tests compare the README with it); default "
                        "docs/claims_default.tsv, or docs/claims_paper.tsv with --block paper")
    p.add_argument("--block", choices=("default", "paper"), default="default",
                   help="which table: the default scale's, or the paper scale's (its decided claims)")
    p.add_argument("--no-snapshot", action="store_true", help="do not update the snapshot")
    p.add_argument("--note", default=None, help="provenance note under the table (e.g. which rows are partial)")
    p.add_argument("--note-file", default=None, help="the note, from a file")
    p.set_defaults(fn=cmd_readme_table)

    p = sub.add_parser("golden", help="hash the probed operations and the golden runs' tables and compare them "
                                      "with tests/golden/ops.json and hashes.json (--write: regenerate both)")
    p.add_argument("--write", action="store_true", help="write tests/golden/ops.json and hashes.json from this machine")
    p.add_argument("--ops-only", action="store_true", help="only the per-operation probe (seconds)")
    p.add_argument("--ops-file", default=None, help="committed operation hashes to compare with (default tests/golden/ops.json)")
    p.add_argument("--json", action="store_true", help="only print the hashes, as JSON on the last line")
    p.add_argument("--overlay", nargs="*", default=[], help="extra config overlays (probes; not with --write)")
    p.set_defaults(fn=cmd_golden)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Thread limits are read when numpy/BLAS/numba/torch load: set them before importing any of them.
    # A training job uses `--threads` cores (default 1: the workflow runs jobs side by side).
    from .pipeline_env import limit_threads

    limit_threads(getattr(args, "threads", None) or 1)

    from .claims import ClaimError
    from .config import ConfigError
    from .tidy import SchemaError

    try:
        return args.fn(args)
    except (ConfigError, ClaimError, SchemaError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"hrlmeta {args.cmd}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
