rule table:
    """Every run of an experiment concatenated: its tidy table."""
    input:
        lambda wildcards: run_paths(wildcards.experiment),
    output:
        report(
            "results/tables/{experiment}.parquet",
            category="Tidy tables",
            caption="../report/table.rst",
        ),
    log:
        "results/logs/table/{experiment}.log",
    conda:
        "../envs/hrlmeta.yaml"
    shell:
        "hrlmeta table --experiment {wildcards.experiment} --out {output} {input} > {log} 2>&1"
