# One rule per experiment: each experiment declares its own figure names (FIGURES).
for _experiment in EXPERIMENTS:

    rule:
        name:
            f"figures_{_experiment}"
        input:
            table=f"results/tables/{_experiment}.parquet",
        output:
            report(
                figure_paths(_experiment),
                category="Figures",
                subcategory=_experiment,
                caption="../report/figure.rst",
            ),
        log:
            f"results/logs/figures/{_experiment}.log",
        conda:
            "../envs/hrlmeta.yaml"
        params:
            experiment=_experiment,
            cfg=config_json(),
        shell:
            "hrlmeta figures --experiment {params.experiment} --table {input.table}"
            " --outdir results/figures --config-json {params.cfg:q} > {log} 2>&1"
