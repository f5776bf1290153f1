rule report_md:
    """results/REPORT.md (claims with verdicts, findings, figures, config, versions) and the HTML
    report's front page, results/report/claims.rst (included by workflow/report/workflow.rst).
    """
    input:
        claims="results/claims/claims.tsv",
        notes="results/claims/notes.json",
        robustness="results/claims/robustness.tsv",
        budget="results/claims/budget.json",
        tables=all_tables(),
        figures=all_figures(),
        spec_curves=robustness_figures(),
    output:
        md=report(
            "results/REPORT.md", category="Report", caption="../report/report.rst"
        ),
        front_page="results/report/claims.rst",
    log:
        "results/logs/report.log",
    conda:
        "../envs/hrlmeta.yaml"
    resources:
        cpu_slots=1,
    params:
        tables=lambda wildcards, input: table_args(input.tables),
        cfg=config_json(),
        files=config_files(),
    shell:
        "hrlmeta report {params.tables} --claims {input.claims} --notes {input.notes}"
        " --robustness {input.robustness} --budget {input.budget}"
        " --figures-dir results/figures --out {output.md} --config-files {params.files}"
        " --front-page {output.front_page} --figure-files {input.figures} {input.spec_curves}"
        " --config-json {params.cfg:q} > {log} 2>&1"
