"""``hrlmeta`` command line: run one step of the pipeline by hand, exactly as the workflow does.

Examples::

    hrlmeta list
    hrlmeta train --experiment fourrooms_sutton --algo intra_option_q --seed 3 --out run.parquet
    hrlmeta train ... --configfile config/smoke.yaml      # an overlay on config/config.yaml
    hrlmeta oracle --experiment fourrooms_sutton           # last line: JSON
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _registry():
    """The experiments of this installation (the package + ``$HRLMETA_EXPERIMENTS``): the CLI is an entry
    point, so it is the one that hands the registry to the core."""
    from .experiments import default

    return default()


def _config(args) -> dict:
    from .config import load_config, restrict, validate_config

    if getattr(args, "config_json", None):
        return validate_config(json.loads(args.config_json), _registry())
    cfg = load_config(_registry(), *(args.configfile or []))
    return restrict(cfg, getattr(args, "only", None))


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--configfile", nargs="*", metavar="YAML",
        help="overlay file(s) merged on top of config/config.yaml (e.g. config/smoke.yaml)",
    )
    p.add_argument("--config-json", help="the whole, already merged config as JSON (used by the workflow)")
    p.add_argument("--only", default=None, metavar="EXP[,EXP...]",
                   help="restrict the run to these experiments (as `snakemake --config only=...`)")


def _tables(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        exp, _, path = pair.partition("=")
        if not path:
            raise SystemExit(f"--table expects EXPERIMENT=PATH, got {pair!r}")
        out[exp] = path
    return out


def cmd_list(args) -> int:
    registry = _registry()
    for name in registry.available():
        d = registry.describe(name)
        print(f"{name} ({d['kind']}): {', '.join(d['algos'])}")
    return 0


def cmd_train(args) -> int:
    from . import pipeline
    from .config import ConfigError
    from .numerics import keep_freed_memory

    keep_freed_memory()  # less system time in the torch jobs; same results
    params = _params(args)
    seeds = args.seed
    if len(seeds) > 1 and "{seed}" not in str(args.out):
        raise ConfigError(f"--out {args.out}: several seeds need a '{{seed}}' placeholder in the path")
    # a batched experiment (experiment.yaml) trains the seeds as one batch, any other in turn
    timings: list[dict] = []
    from . import checkpoint

    minutes = args.checkpoint_minutes or None          # 0: not by CPU time
    every = args.checkpoint_every or None              # 0: not by progress
    off = minutes is None and every is None
    with checkpoint.job(None if off else args.checkpoint_dir, minutes, every, args.code):
        pipeline.train_seeds(args.experiment, args.algo, seeds, params, str(args.out), _registry(), timings,
                             code=args.code)
    if args.timing:
        import resource

        # the peak of a job that trained every seed (one that kept finished seeds trained fewer: no peak)
        reused = any(t.get("reused") for t in timings)
        peak_mb = None if reused else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: KiB
        pipeline.write_timing(args.timing, args.experiment, args.algo, timings, peak_rss_mb=peak_mb)
    return 0


def cmd_oracle(args) -> int:
    from .config import experiment_params

    cfg = _config(args)
    oracle = _registry().part(args.experiment, "oracle", "oracle")
    if oracle is None:
        raise SystemExit(f"experiment {args.experiment!r} has no exact oracle")
    print(json.dumps(oracle(experiment_params(cfg, args.experiment))))
    return 0


def cmd_table(args) -> int:
    from . import pipeline

    pipeline.build_table(args.experiment, args.runs, args.out, _registry())
    return 0


def _params(args) -> dict:
    """The experiment's params block: from --params-json (the workflow passes only its own experiment's
    block; completed with its schema's defaults and validated against it) or from the config."""
    from .config import ConfigError, experiment_params

    if getattr(args, "params_json", None) is not None:
        from .config import _check, complete_params, load_schema

        params = complete_params(args.experiment, json.loads(args.params_json), _registry())
        _check(params, load_schema(args.experiment, _registry()), f"experiments.{args.experiment}.params")
        return params
    cfg = _config(args)
    if args.experiment not in cfg["experiments"]:
        raise ConfigError(f"experiments.{args.experiment}: not in the config")
    return experiment_params(cfg, args.experiment)


def cmd_figures(args) -> int:
    from . import pipeline

    boot = json.loads(args.bootstrap_json) if args.bootstrap_json else None
    pipeline.figures(args.experiment, args.table, _params(args), args.outdir, _registry(), bootstrap=boot)
    return 0


def cmd_claims(args) -> int:
    from . import pipeline

    cfg = _config(args)
    df = pipeline.claims(cfg, _tables(args.table), args.out, args.notes, args.robustness, args.budget,
                         args.samples, registry=_registry())
    for _, r in df.iterrows():
        print(f"{r.claim_id}: {r.verdict} (estimate {r.estimate:.4g}, CI [{r.ci_low:.4g}, {r.ci_high:.4g}])")
    return 0


def cmd_claims_figures(args) -> int:
    from . import speccurve
    from .claims import declared_claims

    cfg = _config(args)
    declared = declared_claims(_registry(), cfg.get("claims"), check_measures=False)
    for p in speccurve.write_figures(args.robustness, args.claims, declared, args.outdir, args.ids):
        print(f"wrote {p}")
    return 0


def cmd_report(args) -> int:
    from . import report

    cfg = _config(args)
    report.build(cfg, args.claims, args.notes, _tables(args.table), args.figures_dir, args.out, args.config_files,
                 robustness_tsv=args.robustness, budget_json=args.budget, registry=_registry())
    print(f"wrote {args.out}")
    if args.front_page:
        from . import front_page
        from .claims import declared_claims

        declared = declared_claims(_registry(), cfg.get("claims"), check_measures=False)
        ranges = {c["id"]: c["expected_range"] for c in declared}
        budget = json.loads(Path(args.budget).read_text()) if args.budget and Path(args.budget).exists() else {}
        front_page.write(args.front_page, args.claims, args.figure_files or [], _tables(args.table), ranges, budget)
        print(f"wrote {args.front_page}")
    return 0


def cmd_plan(args) -> int:
    from . import plan
    from .config import load_config, restrict
    from .tidy import atomic_write_text

    cfg = restrict(load_config(_registry(), *(args.configfile or [])), args.only)
    if args.calibrate:
        import platform

        import yaml

        where = args.measured_on or f"{platform.machine()} {platform.processor() or ''}".strip()
        new = plan.calibrate(args.calibrate, cfg, measured_on=where, registry=_registry())
        costs = plan.merge_costs(plan.load_costs(args.costs), new)
        header = (
            "# Measured CPU seconds per cost unit of each experiment's algorithms (see src/hrlmeta/plan.py).\n"
            "# Written by `hrlmeta plan --calibrate results [--configfile ...]` from the training jobs' timing files\n"
            "# of a real run made with that config; `hrlmeta plan` and the Slurm requests use it. peak_rss_mb: the\n"
            "# largest resident memory (MiB) of a training job of each algorithm in that run (Slurm mem_mb x 1.5).\n"
        )
        atomic_write_text(args.costs or plan.COSTS, header + yaml.safe_dump(costs, sort_keys=False))
        print(f"calibrated {sum(len(e['cpu_s_per_unit']) for e in new['experiments'].values())} "
              f"algorithms from {args.calibrate} -> {args.costs or plan.COSTS}")
    result = plan.plan(cfg, plan.load_costs(args.costs), registry=_registry())
    print(plan.format_plan(result))
    print(json.dumps(result))
    return 0


def cmd_golden(args) -> int:
    from pathlib import Path

    from . import golden

    return golden.main(registry=_registry(), write_files=args.write, as_json=args.json, overlays=tuple(args.configfile),
                       ops_only=args.ops_only, ops_file=Path(args.ops_file) if args.ops_file else golden.OPS_FILE)


def cmd_readme_table(args) -> int:
    from . import readme

    note = Path(args.note_file).read_text() if args.note_file else (args.note or "")
    snapshot = args.snapshot or readme.BLOCKS[args.block][2]
    block = readme.write(args.claims, args.readme, args.listing, None if args.no_snapshot else snapshot, note,
                         block=args.block, registry=_registry())
    print(block)
    print(f"wrote the {args.block} claims table of {args.readme}" + ("" if args.no_snapshot else f" and {snapshot}"))
    if readme.write_what_runs(_registry(), Path(args.readme)):
        print(f"rewrote the \"What runs\" table of {args.readme} from the experiment folders")
    return 0


def cmd_check(args) -> int:
    from . import check

    found = check.problems(_registry(), overlays=tuple(args.configfile or ()), only=args.only)
    for line in found:
        print(line)
    print(f"{len(found)} problem(s)" if found else "no problems: config, experiments, claims and costs are consistent")
    return 1 if found else 0


def cmd_freeze(args) -> int:
    from . import posing

    reg = _registry()
    if args.check:
        found = posing.problems(reg)
        for line in found:
            print(line)
        print(f"{len(found)} claim(s) whose posing is not frozen as declared" if found
              else "every claim's posing is frozen as declared")
        return 1 if found else 0
    done, refused = posing.freeze(reg)
    for line in done + refused:
        print(line)
    print(f"{len(done)} lock entr{'y' if len(done) == 1 else 'ies'} written, {len(refused)} refused")
    return 1 if refused else 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="hrlmeta", description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=None, metavar="DIR",
                    help="the project (checkout) directory: config/, workflow/; default: found from the "
                         "current directory upwards")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("list", help="experiments and their algorithms")
    p.set_defaults(fn=cmd_list)

    p = sub.add_parser("train", help="one training run (or several seeds, as one batch or in turn) -> tidy parquet")
    p.add_argument("--experiment", required=True, help="experiment id (a folder of src/hrlmeta/experiments; `hrlmeta list`)")
    p.add_argument("--algo", required=True, help="algorithm of the experiment (its experiment.yaml algos)")
    p.add_argument("--seed", type=int, nargs="+", required=True,
                   help="seed(s): one table per seed; trained as one batch where the experiment is batched")
    p.add_argument("--out", required=True, help="output path; with several seeds it must contain {seed}")
    p.add_argument("--threads", type=int, default=1, help="cores for this run (BLAS/OpenMP/numba/torch pools)")
    p.add_argument("--params-json", default=None, help="the experiment's params block as JSON (workflow)")
    p.add_argument("--timing", default=None, metavar="JSON",
                   help="also write the job's timing file: rows, wall and CPU seconds per seed")
    p.add_argument("--code", default=None, metavar="FINGERPRINT",
                   help="the job's code fingerprint (workflow): stamp each finished run, and keep runs already "
                        "done with the same params and code instead of training them again")
    p.add_argument("--checkpoint-dir", default=None, metavar="DIR",
                   help="save the whole training state here while training (experiments whose loop resumes, "
                        "hrlmeta.checkpoint) and resume from it on the next run of the same job")
    p.add_argument("--checkpoint-minutes", type=float, default=None, metavar="M",
                   help="CPU-minutes of training between checkpoints (with --checkpoint-dir; 0: no checkpoints)")
    p.add_argument("--checkpoint-every", type=int, default=None, metavar="N",
                   help="progress units of the training loop (e.g. environment steps) between checkpoints (0: none)")
    _add_config(p)
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("oracle", help="exact optimum of an experiment's tabular task(s), JSON on the last line")
    p.add_argument("--experiment", required=True, help="experiment id with an oracle.py (`hrlmeta list`)")
    _add_config(p)
    p.set_defaults(fn=cmd_oracle)

    p = sub.add_parser("plan", help="jobs and estimated CPU-hours of a config, JSON on the last line")
    p.add_argument("--configfile", nargs="*", metavar="YAML",
                   help="overlay file(s) merged on top of config/config.yaml (e.g. config/paper.yaml)")
    p.add_argument("--only", default=None, metavar="EXP[,EXP...]",
                   help="plan a run restricted to these experiments (as `snakemake --config only=...`)")
    p.add_argument("--costs", default=None, help="measured costs file (default config/costs.yaml)")
    p.add_argument("--calibrate", metavar="RESULTS_DIR", default=None,
                   help="first measure CPU s per unit from the training timing files under RESULTS_DIR/benchmarks/train "
                        "of a run made with this config, and update the costs file")
    p.add_argument("--measured-on", default=None, help="machine description stored with a calibration")
    p.set_defaults(fn=cmd_plan)

    p = sub.add_parser("table", help="concatenate run tables into the experiment's tidy table")
    p.add_argument("--experiment", required=True, help="experiment id whose run tables are merged")
    p.add_argument("--out", required=True, type=Path, help="output parquet path of the experiment's tidy table")
    p.add_argument("runs", nargs="+", metavar="RUN.parquet", help="the run tables (one per algorithm and seed) to concatenate")
    p.set_defaults(fn=cmd_table)

    p = sub.add_parser("figures", help="draw an experiment's figures from its tidy table")
    p.add_argument("--experiment", required=True, help="experiment id whose figures are drawn")
    p.add_argument("--table", required=True, help="the experiment's tidy table (parquet)")
    p.add_argument("--outdir", required=True, type=Path, help="directory the figures are written to")
    p.add_argument("--params-json", default=None, help="the experiment's params block as JSON (workflow)")
    p.add_argument("--bootstrap-json", default=None,
                   help="the config's bootstrap block as JSON (workflow): the figures' intervals use the claims' settings")
    _add_config(p)
    p.set_defaults(fn=cmd_figures)

    p = sub.add_parser("claims", help="decide every declared claim -> claims.tsv")
    p.add_argument("--table", action="append", metavar="EXPERIMENT=PATH", default=[], help="an experiment's tidy table, EXPERIMENT=PATH (repeatable)")
    p.add_argument("--out", required=True, type=Path, help="output claims.tsv path")
    p.add_argument("--notes", type=Path, default=None, help="output notes.json path (each claim's measure note)")
    p.add_argument("--robustness", type=Path, default=None, help="robustness.tsv: one row per specification")
    p.add_argument("--budget", type=Path, default=None, help="budget.json: training budget vs the paper's")
    p.add_argument("--samples", type=Path, default=None,
                   help="samples.json: each claim's per-seed values (runs x tasks) and statistic, as decided")
    _add_config(p)
    p.set_defaults(fn=cmd_claims)

    p = sub.add_parser("claims-figures", help="specification-curve figures from robustness.tsv")
    p.add_argument("--robustness", required=True, help="robustness.tsv of the claims job")
    p.add_argument("--claims", required=True, help="claims.tsv of the claims job")
    p.add_argument("--outdir", required=True, type=Path, help="directory the specification-curve figures are written to")
    p.add_argument("--ids", nargs="*", default=None, help="claim ids to draw (default: every claim with robustness)")
    _add_config(p)
    p.set_defaults(fn=cmd_claims_figures)

    p = sub.add_parser("report", help="write REPORT.md")
    p.add_argument("--table", action="append", metavar="EXPERIMENT=PATH", default=[], help="an experiment's tidy table, EXPERIMENT=PATH (repeatable)")
    p.add_argument("--claims", required=True, help="claims.tsv of the claims job")
    p.add_argument("--notes", default=None, help="notes.json of the claims job")
    p.add_argument("--robustness", default=None, help="robustness.tsv of the claims job")
    p.add_argument("--budget", default=None, help="budget.json of the claims job")
    p.add_argument("--figures-dir", required=True, help="directory holding the figures the report links")
    p.add_argument("--out", required=True, type=Path, help="output REPORT.md path")
    p.add_argument("--config-files", nargs="*", default=None, help="config files named in the report")
    p.add_argument("--front-page", type=Path, default=None,
                   help="also write the HTML report's front page (reStructuredText: claims, tables)")
    p.add_argument("--figure-files", nargs="*", default=None, help="the figures the HTML report holds")
    _add_config(p)
    p.set_defaults(fn=cmd_report)

    from .readme import LISTING, README

    p = sub.add_parser("readme-table", help="rewrite README.md's claims table from a claims.tsv "
                                            "(the claims listed in docs/readme_claims.yaml)")
    p.add_argument("--claims", default="results/claims/claims.tsv", help="claims.tsv of a default-scale run")
    p.add_argument("--readme", type=Path, default=README, help="README.md whose claims table is rewritten")
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

    p = sub.add_parser("check", help="validate the config with its overlays, every experiment.yaml and claims.yaml "
                                     "(measures, params, robustness, frozen posings) and the cost rates: one "
                                     "line per problem, exit 1 on any")
    p.add_argument("--configfile", nargs="*", metavar="YAML",
                   help="overlay file(s) merged on top of config/config.yaml (e.g. config/smoke.yaml)")
    p.add_argument("--only", default=None, metavar="EXP[,EXP...]",
                   help="check a run restricted to these experiments (as `snakemake --config only=...`)")
    p.set_defaults(fn=cmd_check)

    p = sub.add_parser("freeze", help="freeze every claim's posing in its folder's claims.lock (a changed posing "
                                      "needs a new entry in the claim's revisions:)")
    p.add_argument("--check", action="store_true", help="only compare the declared posings with the locks")
    p.set_defaults(fn=cmd_freeze)

    p = sub.add_parser("golden", help="hash the probed operations and the golden runs' tables and compare them "
                                      "with tests/golden/ops.json and hashes.json (--write: regenerate both)")
    p.add_argument("--write", action="store_true", help="write tests/golden/ops.json and hashes.json from this machine")
    p.add_argument("--ops-only", action="store_true", help="only the per-operation probe (seconds)")
    p.add_argument("--ops-file", default=None, help="committed operation hashes to compare with (default tests/golden/ops.json)")
    p.add_argument("--json", action="store_true", help="only print the hashes, as JSON on the last line")
    p.add_argument("--configfile", nargs="*", default=[], metavar="YAML",
                   help="overlays on the golden config (config.yaml + smoke.yaml), for probes; not with --write")
    p.set_defaults(fn=cmd_golden)
    return ap


def main(argv: list[str] | None = None) -> int:
    # --root first: the project root is fixed when hrlmeta.config is imported (building the parser does)
    argv = sys.argv[1:] if argv is None else list(argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--root", default=None)
    known, _ = pre.parse_known_args(argv)
    if known.root is not None:
        import os

        root = Path(known.root).resolve()
        if not ((root / "Snakefile").is_file() and (root / "config" / "config.yaml").is_file()):
            print(f"hrlmeta: error: --root {known.root}: no Snakefile and config/config.yaml there", file=sys.stderr)
            return 2
        if "hrlmeta.config" in sys.modules and sys.modules["hrlmeta.config"].ROOT != root:
            print("hrlmeta: error: --root given after hrlmeta.config was imported in this process", file=sys.stderr)
            return 2
        os.environ["HRLMETA_ROOT"] = str(root)
    args = build_parser().parse_args(argv)
    # Thread limits are read when numpy/BLAS/numba/torch load: set them before importing any of them.
    # A training job uses `--threads` cores (default 1: the workflow runs jobs side by side).
    from .numerics import limit_threads

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
