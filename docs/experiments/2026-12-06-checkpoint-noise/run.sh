#!/usr/bin/env bash
# The checkpoint-noise experiment (EVAL.md, "How far nearby checkpoints move"): for each DATA_SEED, STEPS more steps on
# the shipped model (tail.py), then `grounded` and `self_forcing` on the standard schedule, 16 seeds.
#   bash docs/experiments/2026-12-06-checkpoint-noise/run.sh WORK_DIR OUT_DIR STEPS DATA_SEED...
set -eu
work=$1; out=$2; steps=$3; shift 3; mkdir -p "$work" "$out"
here=docs/experiments/2026-12-06-checkpoint-noise
for seed in "$@"; do
  .venv/bin/python $here/tail.py "$work/tail_s$seed" "$steps" "$seed" 2>&1 | grep -v Warning | tee "$out/train_s$seed.txt"
  cp "$work/tail_s$seed/log.json" "$out/log_s$seed.json"
  .venv/bin/gf eval long --model "$work/tail_s$seed" --seeds "$(seq -s, 0 15)" --policies grounded,self_forcing \
    --out "$work/eval_s$seed" --json > "$out/eval_s$seed.json"
done
