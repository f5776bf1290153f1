# One rule draws every experiment's figures (the names its description declares) into a staging
# folder; `figure` copies each to results/figures/{experiment}_{name}.png. The figures job receives
# only its own experiment's params: editing another experiment's block does not redraw them.


rule figures:
    """Every figure of one experiment, drawn from its tidy table."""
    input:
        table="results/tables/{experiment}.parquet",
    output:
        temp(directory("results/staging/figures/{experiment}")),
    log:
        "results/logs/figures/{experiment}.log",
    conda:
        "../envs/hrlmeta.yaml"
    params:
        cfg=lambda wildcards: params_json(wildcards.experiment),
    shell:
        "hrlmeta figures --experiment {wildcards.experiment} --table {input.table}"
        " --outdir {output} --params-json {params.cfg:q} > {log} 2>&1"


rule figure:
    """One figure, copied byte for byte out of its experiment's figures job."""
    input:
        "results/staging/figures/{experiment}",
    output:
        report(
            "results/figures/{experiment}_{name}.png",
            category="Figures",
            subcategory="{experiment}",
            caption="../report/figure.rst",
        ),
    log:
        "results/logs/figures/{experiment}_{name}.log",
    localrule: True
    run:
        copy_out(
            f"{input[0]}/{wildcards.experiment}_{wildcards.name}.png",
            output[0],
            log[0],
        )
