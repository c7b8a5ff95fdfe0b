#!/usr/bin/env bash
# The carried-over-prompt figures of EVAL.md's "Prompts carried over", for one model folder, on this CPU:
#   bash docs/experiments/2026-12-05-cpu-vae/evals_carried.sh MODEL_DIR OUT_DIR
# `gf eval long --carry-over-prompts`: the standard schedule with every policy and 16 seeds, the other subjects and
# the 51x schedule with four policies and 8 seeds; then grounded against self_forcing paired by seed.
set -eu
model=$1; out=$2; mkdir -p "$out"
gf=.venv/bin/gf; py=.venv/bin/python
s16=$(seq -s, 0 15); s8=$(seq -s, 0 7); four=self_forcing,longlive,grounded,grounded-no-dr-rope
$gf eval long --carry-over-prompts --model "$model" --seeds "$s16" --out "$out/standard" --json > "$out/eval_long_standard.json"
for subject in cube star triangle; do
  $gf eval long --carry-over-prompts --model "$model" --schedule "examples/eval_schedule_$subject.json" --seeds "$s8" \
    --policies $four --out "$out/$subject" --json > "$out/eval_long_$subject.json"
done
$gf eval long --carry-over-prompts --model "$model" --schedule examples/eval_schedule_long.json --seeds "$s8" \
  --policies $four --out "$out/51x" --json > "$out/eval_long_51x.json"
$py docs/experiments/2026-12-03-training-seeds/compare.py grounded self_forcing standard="$out/eval_long_standard.json" \
  cube="$out/eval_long_cube.json" star="$out/eval_long_star.json" triangle="$out/eval_long_triangle.json" \
  51x="$out/eval_long_51x.json" | tee "$out/compare.txt"
