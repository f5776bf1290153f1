rule claims:
    """Decide every claim in config/claims.yaml from the tidy tables."""
    input:
        tables=all_tables(),
        declared=config.get("claims", "config/claims.yaml"),
    output:
        tsv=report(
            "results/claims/claims.tsv",
            category="Claims",
            caption="../report/claims.rst",
        ),
        notes="results/claims/notes.json",
    log:
        "results/logs/claims.log",
    conda:
        "../envs/hrlmeta.yaml"
    params:
        tables=lambda wildcards, input: table_args(input.tables),
        cfg=config_json(),
    shell:
        "hrlmeta claims {params.tables} --out {output.tsv} --notes {output.notes}"
        " --config-json {params.cfg:q} > {log} 2>&1"
