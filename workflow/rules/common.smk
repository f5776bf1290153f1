import json
import math
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

from hrlmeta.check import cost_problems
from hrlmeta.check import workflow_problems as input_problems
from hrlmeta.experiments import default as default_registry
from hrlmeta.config import enabled_experiments, seeds, with_folder_blocks
from hrlmeta.fingerprint import training_fingerprint
from hrlmeta.plan import cpu_seconds, job_mem_mb, job_minutes, load_costs, train_retries
from hrlmeta.plan import seed_chunks as plan_seed_chunks

min_version("9.0")


# The experiments: folders of src/hrlmeta/experiments/ and of $HRLMETA_EXPERIMENTS, read from their
# experiment.yaml (no experiment code is imported to build the DAG).
registry = default_registry()
# Each experiment's block completed from its folder (experiment.yaml `config`: its default block and the block
# of the scale the config's top-level `scale` names); the config files override, and need no block at all.
config.update(with_folder_blocks(config, registry))

# Before anything else, the checks of `hrlmeta check` on this config: the top level and each
# experiment's `params` block against their schemas, the experiments' descriptions, every claim's
# measure and parameters (missing cost rates warn). One line per problem, naming the file and key,
# instead of a schema dump; only the main process checks (cluster jobs re-read this file).
if workflow.is_main_process:
    _problems = input_problems(config, registry, files=workflow.configfiles)
    if _problems:
        raise WorkflowError(
            f"{len(_problems)} problem(s) in the inputs (hrlmeta check prints the same):\n  "
            + "\n  ".join(_problems)
        )
    for _line in cost_problems(config, registry):
        print(f"warning: {_line}", file=sys.stderr)
# Then Snakemake's own validation of the top level, which fills in the schema's defaults (the checks above
# already cover everything it would reject, each experiment's params included).
validate(config, "../schemas/config.schema.yaml")

EXPERIMENTS = enabled_experiments(config, registry)


def exp_block(experiment):
    return config["experiments"][experiment]


def algos(experiment):
    return exp_block(experiment)["algos"]


def figure_names(experiment):
    """The experiment's figures, from its description (experiment.yaml): no experiment code is imported."""
    return registry.describe(experiment)["figures"]


wildcard_constraints:
    experiment="|".join(EXPERIMENTS) or "none",
    algo="|".join(sorted({a for e in EXPERIMENTS for a in algos(e)})) or "none",
    chunk=r"seeds?\d+(-\d+)?",
    seed=r"\d+",


def run_paths(experiment, algo_list=None, seed_list=None):
    """Training runs of one experiment: results/runs/{experiment}/{algo}/seed{seed}.parquet"""
    return expand(
        "results/runs/{experiment}/{algo}/seed{seed}.parquet",
        experiment=experiment,
        algo=exp_block(experiment)["algos"] if algo_list is None else algo_list,
        seed=seeds(config, experiment) if seed_list is None else seed_list,
    )


def seed_chunks(experiment):
    """The experiment's seeds in chunks of `seeds_per_job` (one training job each)."""
    return plan_seed_chunks(config, experiment)


def chunk_tag(chunk):
    """A chunk's name in paths and wildcards: `seed3`, or `seeds0-9` for seeds 0 to 9."""
    return f"seed{chunk[0]}" if len(chunk) == 1 else f"seeds{chunk[0]}-{chunk[-1]}"


def chunk_seeds(wildcards):
    """The seeds of the chunk named by the `chunk` wildcard; an error unless the config makes it."""
    for chunk in seed_chunks(wildcards.experiment):
        if chunk_tag(chunk) == wildcards.chunk:
            return chunk
    raise ValueError(
        f"{wildcards.experiment}: no chunk {wildcards.chunk!r} at this config's n_seeds, first_seed and "
        f"seeds_per_job; its chunks: {', '.join(map(chunk_tag, seed_chunks(wildcards.experiment)))}"
    )


def timing_paths(experiment):
    """The timing files of the experiment's training jobs (their declared outputs)."""
    return [
        f"results/benchmarks/train/{experiment}/{algo}/{chunk_tag(chunk)}.json"
        for algo in algos(experiment)
        for chunk in seed_chunks(experiment)
    ]


def missing_runs(experiment):
    """Run files missing although their chunk's timing file exists (e.g. deleted): `seed_run` makes
    each alone. Empty on a fresh run, where the training jobs write every run."""
    out = []
    for algo in algos(experiment):
        for chunk in seed_chunks(experiment):
            timing = (
                f"results/benchmarks/train/{experiment}/{algo}/{chunk_tag(chunk)}.json"
            )
            if os.path.exists(timing):
                out += [
                    p
                    for p in run_paths(experiment, [algo], chunk)
                    if not os.path.exists(p)
                ]
    return out


COSTS = load_costs()
TRAIN_RETRIES = train_retries(config, COSTS, registry=registry)

# CPU slots: at most one single-threaded job per CPU of this machine at a time, whatever `--cores` says
# (`snakemake --cores 8` on a 2-core laptop would otherwise run 8 processes on 2 CPUs: measured ~14% more
# CPU time per job from the oversubscription, and every job finishing late). `--resources cpu_slots=N`
# overrides it; cluster runs (`--executor slurm`, nodes set) are not limited.
if (
    workflow.is_main_process
    and workflow.global_resources["_nodes"].value is None
    and "cpu_slots" not in workflow.global_resources
):
    workflow.register_resource("cpu_slots", len(os.sched_getaffinity(0)))


def train_priority(wildcards):
    """Longest training jobs first (their estimated CPU seconds, `hrlmeta plan`), so that the run does
    not end waiting on one long job that started last."""
    cpu = cpu_seconds(
        config,
        wildcards.experiment,
        wildcards.algo,
        len(chunk_seeds(wildcards)),
        COSTS,
        registry,
    )
    return int(cpu or 0)


def train_runtime(wildcards):
    """Minutes a training job asks for (Slurm `runtime`): measured CPU s per unit x units x safety."""
    return job_minutes(
        config,
        wildcards.experiment,
        wildcards.algo,
        len(chunk_seeds(wildcards)),
        COSTS,
        registry=registry,
    )


def checkpoint_minutes(wildcards):
    """CPU-minutes between a training job's checkpoints (config `training.checkpoint_cpu_minutes`, rounded up;
    0: none, and for experiments whose training does not resume). A resource, not a param: how often a job
    saves its state changes none of its outputs, so it must not rerun anything."""
    minutes = config.get("training", {}).get("checkpoint_cpu_minutes")
    if minutes is None or not registry.describe(wildcards.experiment).get("resumable"):
        return 0
    return max(1, math.ceil(float(minutes)))


def checkpoint_every(wildcards):
    """Progress units between checkpoints (config `training.checkpoint_every`; 0: by CPU time only)."""
    every = config.get("training", {}).get("checkpoint_every")
    if every is None or not registry.describe(wildcards.experiment).get("resumable"):
        return 0
    return int(every)


def params_json(experiment):
    """The experiment's params as canonical JSON: a change to them re-runs its jobs, and only them."""
    return json.dumps(exp_block(experiment).get("params", {}), sort_keys=True)


def figure_paths(experiment):
    return expand(
        "results/figures/{experiment}_{name}.png",
        experiment=experiment,
        name=figure_names(experiment),
    )


def all_tables():
    return expand("results/tables/{experiment}.parquet", experiment=EXPERIMENTS)


def all_figures():
    return [p for e in EXPERIMENTS for p in figure_paths(e)]


def robustness_claim_ids():
    """Claims with a robustness block whose experiment runs: each gets a specification curve."""
    from hrlmeta.claims import declared_claims

    declared = declared_claims(registry, config.get("claims"), check_measures=False)
    return [
        c["id"]
        for c in declared
        if "robustness" in c and c["experiment"] in EXPERIMENTS
    ]


def robustness_figures():
    return expand(
        "results/figures/claims_robustness_{claim}.png", claim=robustness_claim_ids()
    )


def table_args(tables):
    """--table EXPERIMENT=PATH for each experiment's tidy table."""
    return " ".join(f"--table {e}={p}" for e, p in zip(EXPERIMENTS, tables))


def config_json():
    return json.dumps(config, sort_keys=True)


def config_files():
    """The config files this run merged, for the report."""
    files = ["config/config.yaml"] + [
        str(f)
        for f in workflow.configfiles
        if not str(f).endswith("config/config.yaml")
    ]
    return " ".join(dict.fromkeys(files))


def claims_files():
    """Every declaration the claims step reads: the experiments' claims.yaml and the config's extra file."""
    files = [
        str(p)
        for e in registry.available()
        if (p := registry.claims_path(e)) is not None
    ]
    return files + ([config["claims"]] if config.get("claims") else [])
