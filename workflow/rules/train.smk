rule train:
    """One seeded training run of one algorithm of one experiment."""
    output:
        "results/runs/{experiment}/{algo}/seed{seed}.parquet",
    log:
        "results/logs/train/{experiment}/{algo}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{experiment}/{algo}/seed{seed}.tsv"
    threads: train_threads
    resources:
        mem_mb=2000,
    params:
        cfg=params_json,
    shell:
        "hrlmeta train --experiment {wildcards.experiment} --algo {wildcards.algo}"
        " --seed {wildcards.seed} --threads {threads} --params-json {params.cfg:q}"
        " --out {output} > {log} 2>&1"
