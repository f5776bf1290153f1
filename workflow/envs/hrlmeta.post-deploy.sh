#!/usr/bin/env bash
# Run by Snakemake inside the new conda environment, from the workflow's working directory.
set -euo pipefail
pip install --no-deps -e .
