# One rule trains every chunk of runs: a job is one (experiment, algorithm, chunk of `seeds_per_job`
# seeds), trained in one process (as one batch where the experiment is
# `batched`, else in turn) (Python, numba and torch load once). The chunk is named after
# its seeds (`seed3`, `seeds0-9`; see `chunk_tag`). Each seed's run table goes to its own path,
# results/runs/{experiment}/{algo}/seed{seed}.parquet; the job's declared output is its timing file
# (the runs it wrote, rows, wall and CPU seconds per seed), which the table rule depends on. A rule
# cannot declare a different number of files per job, hence this shape.
#
# `seed_run` makes one run on demand: a run file that is asked for (or that is missing while its
# chunk's timing file exists, e.g. deleted after an interrupted run) is trained alone, with the same
# result (a run is a pure function of experiment, algorithm, seed and params). Both rules carry the
# fingerprint of the code the job runs (hrlmeta.fingerprint) as a parameter: a change to that code reruns
# the job; a change to figures, report, claims or measures reruns none. Each finished run is stamped
# (seed{seed}.parquet.done.json: params, code, its cost), so a job killed part-way keeps the seeds it
# finished and its rerun trains only the rest (hrlmeta.pipeline.train_seeds).


rule train:
    """One training job: a chunk of seeds of one algorithm of one experiment, in one process."""
    output:
        timing="results/benchmarks/train/{experiment}/{algo}/{chunk}.json",
    log:
        "results/logs/train/{experiment}/{algo}/{chunk}.log",
    benchmark:
        "results/benchmarks/train/{experiment}/{algo}/{chunk}.tsv"
    priority: train_priority
    # with training.max_job_hours: a failed node or pre-emption once, plus one retry per further segment of
    # the longest resumable job (a job over its runtime is stopped and resumes from its checkpoint); without
    # it, Snakemake's own --retries (the Slurm profile's 1)
    retries: TRAIN_RETRIES
    conda:
        "../envs/hrlmeta.yaml"
    threads: lambda wildcards: exp_block(wildcards.experiment).get("threads", 1)
    resources:
        mem_mb=lambda wildcards: job_mem_mb(wildcards.experiment, wildcards.algo, COSTS),
        runtime=lambda wildcards: train_runtime(wildcards),
        cpu_slots=lambda wildcards, threads: threads,
        ckpt_minutes=checkpoint_minutes,
        ckpt_every=checkpoint_every,
    params:
        seeds=lambda wildcards: " ".join(map(str, chunk_seeds(wildcards))),
        cfg=lambda wildcards: params_json(wildcards.experiment),
        # the code the job runs (hrlmeta.fingerprint): a change to it reruns the job, a change elsewhere not
        code=lambda wildcards: training_fingerprint(
            wildcards.experiment, wildcards.algo, registry=registry
        ),
    shell:
        "hrlmeta train --experiment {wildcards.experiment} --algo {wildcards.algo}"
        " --seed {params.seeds} --threads {threads} --params-json {params.cfg:q} --code {params.code}"
        " --checkpoint-dir results/checkpoints/{wildcards.experiment}/{wildcards.algo}"
        " --checkpoint-minutes {resources.ckpt_minutes} --checkpoint-every {resources.ckpt_every}"
        " --out results/runs/{wildcards.experiment}/{wildcards.algo}/seed{{seed}}.parquet"
        " --timing {output.timing} > {log} 2>&1"


rule seed_run:
    """One run alone (a run file asked for, or missing from its chunk)."""
    output:
        "results/runs/{experiment}/{algo}/seed{seed}.parquet",
    log:
        "results/logs/train/{experiment}/{algo}/seed{seed}.single.log",
    retries: TRAIN_RETRIES
    conda:
        "../envs/hrlmeta.yaml"
    threads: lambda wildcards: exp_block(wildcards.experiment).get("threads", 1)
    resources:
        mem_mb=lambda wildcards: job_mem_mb(wildcards.experiment, wildcards.algo, COSTS),
        cpu_slots=lambda wildcards, threads: threads,
        ckpt_minutes=checkpoint_minutes,
        ckpt_every=checkpoint_every,
        runtime=lambda wildcards: job_minutes(
            config, wildcards.experiment, wildcards.algo, 1, COSTS, registry=registry
        ),
    params:
        cfg=lambda wildcards: params_json(wildcards.experiment),
        code=lambda wildcards: training_fingerprint(
            wildcards.experiment, wildcards.algo, registry=registry
        ),
    shell:
        "hrlmeta train --experiment {wildcards.experiment} --algo {wildcards.algo}"
        " --seed {wildcards.seed} --threads {threads} --params-json {params.cfg:q} --code {params.code}"
        " --checkpoint-dir results/checkpoints/{wildcards.experiment}/{wildcards.algo}"
        " --checkpoint-minutes {resources.ckpt_minutes} --checkpoint-every {resources.ckpt_every}"
        " --out {output} > {log} 2>&1"
