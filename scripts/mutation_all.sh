#!/usr/bin/env bash
# The whole mutation run, as recorded in docs/testing.md (about an hour on 2 cores):
# the numeric core and the formulas in full, the two largest modules on every 2nd mutant.
set -u
cd "$(dirname "$0")/.."
out=${1:-mutation}
python3 scripts/mutation.py xlfuncs/valuation.py xlfuncs/burn.py xlfuncs/fx.py \
    xlfuncs/checks.py xlfuncs/elementwise.py xlfuncs/inputs.py xlfuncs/registry.py \
    xlfuncs/entry.py --jobs 2 --json "$out-core.json"
python3 scripts/mutation.py xlfuncs/data.py xlfuncs/layers.py xlfuncs/workbook/safety.py \
    xlfuncs/workbook/columns.py --jobs 2 --json "$out-data.json"
python3 scripts/mutation.py xlfuncs/facts_file.py xlfuncs/workbook/book.py --sample 2 \
    --jobs 2 --json "$out-sampled.json"
