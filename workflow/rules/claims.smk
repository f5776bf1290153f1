rule claims:
    """Decide every declared claim (the experiments' claims.yaml) from the tidy tables (and every robustness specification)."""
    input:
        tables=all_tables(),
        declared=claims_files(),
    output:
        tsv=report(
            "results/claims/claims.tsv",
            category="Claims",
            caption="../report/claims.rst",
        ),
        notes="results/claims/notes.json",
        robustness="results/claims/robustness.tsv",
        budget="results/claims/budget.json",
        samples="results/claims/samples.json",
    log:
        "results/logs/claims.log",
    conda:
        "../envs/hrlmeta.yaml"
    resources:
        cpu_slots=1,
    params:
        tables=lambda wildcards, input: table_args(input.tables),
        cfg=config_json(),
    shell:
        "hrlmeta claims {params.tables} --out {output.tsv} --notes {output.notes}"
        " --robustness {output.robustness} --budget {output.budget} --samples {output.samples}"
        " --config-json {params.cfg:q} > {log} 2>&1"


rule claims_figures:
    """A specification curve per claim with a robustness block."""
    input:
        robustness="results/claims/robustness.tsv",
        claims="results/claims/claims.tsv",
    output:
        report(
            robustness_figures(),
            category="Claims",
            subcategory="Specification curves",
            caption="../report/speccurve.rst",
        ),
    log:
        "results/logs/claims_figures.log",
    conda:
        "../envs/hrlmeta.yaml"
    resources:
        cpu_slots=1,
    params:
        ids=" ".join(robustness_claim_ids()),
        cfg=config_json(),
    shell:
        "hrlmeta claims-figures --robustness {input.robustness} --claims {input.claims}"
        " --outdir results/figures --ids {params.ids} --config-json {params.cfg:q} > {log} 2>&1"
