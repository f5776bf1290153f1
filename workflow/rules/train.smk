# One training job per (experiment, algorithm, chunk of seeds): a job runs `seeds_per_job` seeds in one
# process (Python, numba and torch load once), as one batch where the experiment has `train_batch`
# (networks with a leading seed dimension), else in turn; each seed written to its own file.
for _experiment in EXPERIMENTS:
    for _algo in exp_block(_experiment)["algos"]:
        for _seeds in seed_chunks(_experiment):

            rule:
                name:
                    f"train_{_experiment}_{_algo}_{seed_tag(_seeds)}"
                output:
                    run_paths(_experiment, [_algo], _seeds),
                log:
                    f"results/logs/train/{_experiment}/{_algo}/{seed_tag(_seeds)}.log",
                benchmark:
                    f"results/benchmarks/train/{_experiment}/{_algo}/{seed_tag(_seeds)}.tsv"
                conda:
                    "../envs/hrlmeta.yaml"
                threads: exp_block(_experiment).get("threads", 1)
                resources:
                    mem_mb=2000,
                    runtime=train_runtime(_experiment, _algo, _seeds),
                params:
                    experiment=_experiment,
                    algo=_algo,
                    seeds=" ".join(map(str, _seeds)),
                    cfg=params_json(_experiment),
                shell:
                    "hrlmeta train --experiment {params.experiment} --algo {params.algo}"
                    " --seed {params.seeds} --threads {threads} --params-json {params.cfg:q}"
                    " --out results/runs/{params.experiment}/{params.algo}/seed{{seed}}.parquet"
                    " > {log} 2>&1"
