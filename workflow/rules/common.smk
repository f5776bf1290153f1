import json

from snakemake.utils import min_version, validate

from hrlmeta.experiments import default as default_registry
from hrlmeta.config import enabled_experiments, seeds, validate_config
from hrlmeta.plan import job_minutes, load_costs

min_version("9.0")


# The experiments: folders of src/hrlmeta/experiments/ and of $HRLMETA_EXPERIMENTS, read from their
# experiment.yaml (no experiment code is imported to build the DAG).
registry = default_registry()

# The top level is validated by Snakemake against the JSON schema (defaults filled in); each
# experiment's `params` block against the schema.yaml in its folder, with the offending key named
# in the error.
validate(config, "../schemas/config.schema.yaml")
validate_config(config, registry)

EXPERIMENTS = enabled_experiments(config, registry)


wildcard_constraints:
    experiment="|".join(EXPERIMENTS) or "none",


def exp_block(experiment):
    return config["experiments"][experiment]


def run_paths(experiment, algos=None, seed_list=None):
    """Training runs of one experiment: results/runs/{experiment}/{algo}/seed{seed}.parquet"""
    return expand(
        "results/runs/{experiment}/{algo}/seed{seed}.parquet",
        experiment=experiment,
        algo=exp_block(experiment)["algos"] if algos is None else algos,
        seed=seeds(config, experiment) if seed_list is None else seed_list,
    )


def seed_chunks(experiment):
    """The experiment's seeds in chunks of `seeds_per_job` (one training job each)."""
    s = seeds(config, experiment)
    k = exp_block(experiment).get("seeds_per_job", 1)
    return [s[i : i + k] for i in range(0, len(s), k)]


COSTS = load_costs()


def train_runtime(experiment, algo, chunk):
    """Minutes a training job asks for (Slurm `runtime`): measured CPU s per unit x units x safety."""
    return job_minutes(config, experiment, algo, len(chunk), COSTS, registry=registry)


def seed_tag(chunk):
    return f"seed{chunk[0]}" if len(chunk) == 1 else f"seeds{chunk[0]}-{chunk[-1]}"


def params_json(experiment):
    """The experiment's params as canonical JSON: a change to them re-runs its jobs, and only them."""
    return json.dumps(exp_block(experiment).get("params", {}), sort_keys=True)


def figure_names(experiment):
    return registry.describe(experiment)["figures"]


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
    files = [str(p) for e in registry.available() if (p := registry.claims_path(e)) is not None]
    return files + ([config["claims"]] if config.get("claims") else [])
