#!/usr/bin/env bash
# The whole mutation run, as recorded in docs/testing.md ("Scores now"): every module in
# full, about an hour on 2 cores (facts_file.py ~16 min and book.py ~7 min of it).
set -u
cd "$(dirname "$0")/.."
out=${1:-mutation}
python3 scripts/mutation.py xlfuncs/valuation.py xlfuncs/burn.py xlfuncs/fx.py \
    xlfuncs/checks.py xlfuncs/elementwise.py xlfuncs/inputs.py xlfuncs/registry.py \
    xlfuncs/entry.py --jobs 2 --json "$out-core.json"
python3 scripts/mutation.py xlfuncs/data.py xlfuncs/layers.py xlfuncs/workbook/safety.py \
    xlfuncs/workbook/columns.py --jobs 2 --json "$out-data.json"
python3 scripts/mutation.py xlfuncs/facts_file.py xlfuncs/workbook/book.py \
    --jobs 2 --json "$out-files.json"
