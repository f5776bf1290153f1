rule table:
    """Every run of an experiment concatenated: its tidy table."""
    input:
        timings=lambda wildcards: timing_paths(wildcards.experiment),
        missing=lambda wildcards: missing_runs(wildcards.experiment),
    output:
        # not report(): a table can be tens of MB; the report's front page summarises each one
        "results/tables/{experiment}.parquet",
    log:
        "results/logs/table/{experiment}.log",
    conda:
        "../envs/hrlmeta.yaml"
    resources:
        cpu_slots=1,
    params:
        runs=lambda wildcards: " ".join(run_paths(wildcards.experiment)),
    shell:
        "hrlmeta table --experiment {wildcards.experiment} --out {output} {params.runs} > {log} 2>&1"
