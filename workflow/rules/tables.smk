rule table:
    """Every run of an experiment concatenated: its tidy table."""
    input:
        lambda wildcards: run_paths(wildcards.experiment),
    output:
        # not report(): a table can be tens of MB; the report's front page summarises each one
        "results/tables/{experiment}.parquet",
    log:
        "results/logs/table/{experiment}.log",
    conda:
        "../envs/hrlmeta.yaml"
    shell:
        "hrlmeta table --experiment {wildcards.experiment} --out {output} {input} > {log} 2>&1"
