# One figures rule per experiment, generated from its description (experiment.yaml `figures`): a rule
# declares a fixed list of files, and experiments draw different figures. Each receives only its own
# experiment's params: editing another experiment's block does not redraw its figures.
for _experiment in EXPERIMENTS:
    if not figure_names(_experiment):
        continue

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
        resources:
            cpu_slots=1,
        params:
            experiment=_experiment,
            cfg=params_json(_experiment),
            boot=json.dumps(config.get("bootstrap") or {}, sort_keys=True),
        shell:
            "hrlmeta figures --experiment {params.experiment} --table {input.table}"
            " --outdir results/figures --params-json {params.cfg:q} --bootstrap-json {params.boot:q} > {log} 2>&1"
