# hrlmeta: seeded training runs -> tidy tables -> figures -> claims -> report.
#
#   snakemake --cores 8                                   # default scale (config/config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml    # smoke scale (CI)
#   snakemake --cores 8 --configfile config/paper.yaml    # the papers' scale
#   snakemake --report results/report.html                # browsable report after a run


configfile: "config/config.yaml"


# The HTML report's front page: the claims with verdicts and links to their figures.
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        "results/REPORT.md",
        "results/report/claims.rst",
        "results/claims/claims.tsv",
        all_tables(),
        all_figures(),
