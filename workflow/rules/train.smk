# One rule trains every run: a job is one (experiment, algorithm, chunk of `seeds_per_job` seeds),
# trained in turn in one process (Python, numba and torch load once). The chunk is named after its
# seeds (`seed3`, `seeds0-9`; see `chunk_tag`). The job writes its seeds' run tables into a staging
# folder and a timing file (CPU and wall seconds per seed, read by `hrlmeta plan --calibrate` and the
# report); `seed_run` then copies each seed's table to results/runs/{experiment}/{algo}/seed{seed}.parquet,
# so every run keeps its own path and target.


rule train:
    """One training job: a chunk of seeds of one algorithm of one experiment, in one process."""
    output:
        runs=temp(directory("results/staging/runs/{experiment}/{algo}/{chunk}")),
        timing="results/benchmarks/train/{experiment}/{algo}/{chunk}.json",
    log:
        "results/logs/train/{experiment}/{algo}/{chunk}.log",
    benchmark:
        "results/benchmarks/train/{experiment}/{algo}/{chunk}.tsv"
    conda:
        "../envs/hrlmeta.yaml"
    threads: lambda wildcards: exp_block(wildcards.experiment).get("threads", 1)
    resources:
        mem_mb=2000,
        runtime=lambda wildcards: train_runtime(wildcards),
    params:
        seeds=lambda wildcards: " ".join(map(str, chunk_seeds(wildcards))),
        cfg=lambda wildcards: params_json(wildcards.experiment),
    shell:
        "hrlmeta train --experiment {wildcards.experiment} --algo {wildcards.algo}"
        " --seed {params.seeds} --threads {threads} --params-json {params.cfg:q}"
        " --out {output.runs}/seed{{seed}}.parquet --timing {output.timing} > {log} 2>&1"


rule seed_run:
    """One run's table, copied byte for byte out of the training job that holds its seed."""
    input:
        chunk=lambda wildcards: staging_chunk(wildcards),
    output:
        "results/runs/{experiment}/{algo}/seed{seed}.parquet",
    log:
        "results/logs/runs/{experiment}/{algo}/seed{seed}.log",
    localrule: True
    run:
        copy_out(f"{input.chunk}/seed{wildcards.seed}.parquet", output[0], log[0])
