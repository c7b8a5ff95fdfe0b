#!/usr/bin/env bash
# The first look at a candidate default before its full evals (docs/experiments/2026-12-05-cpu-vae/evals.sh): the
# bar's schedule (the standard one) with grounded and self_forcing on 32 stream seeds, which also gives
# extra_subject (a second subject of the prompted colour), then grounded against self_forcing paired by seed on
# seeds 0-15 and on the held-out 16-31.
#   bash docs/experiments/2026-12-07-fourteenth/first_look.sh MODEL_DIR OUT_DIR
set -eu
model=$1; out=$2; mkdir -p "$out"
py=.venv/bin/python
.venv/bin/gf eval long --model "$model" --seeds "$(seq -s, 0 31)" --policies grounded,self_forcing \
  --json > "$out/eval_long_standard_32seeds.json"
$py docs/experiments/2026-12-07-fourteenth/split_seeds.py "$out/eval_long_standard_32seeds.json" | tee "$out/first_look.txt"
