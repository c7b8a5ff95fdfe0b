#!/usr/bin/env bash
# Every figure EVAL.md's "An eighth training" section gives, for one trained model folder, on this CPU:
#   bash docs/experiments/2026-12-05-cpu-vae/evals.sh MODEL_DIR OUT_DIR
# the VAE round trip, the shape within the horizon, the standard schedule (6 policies x 16 seeds), the other three
# subjects and the 51x schedule (4 policies x 8 seeds), and grounded against self_forcing paired by seed.
set -eu
model=$1; out=$2; mkdir -p "$out"
gf=.venv/bin/gf; py=.venv/bin/python
s16=$(seq -s, 0 15); s8=$(seq -s, 0 7); four=self_forcing,longlive,grounded,grounded-no-dr-rope
$py docs/experiments/2026-12-04-gpu-large/vae_round_trip.py "$model/vae.safetensors" | tee "$out/vae_round_trip.txt"
$py docs/experiments/2026-12-04-gpu-large/shape_within_horizon.py "$model" | tee "$out/shape_within_horizon.txt"
$gf eval long --model "$model" --seeds "$s16" --out "$out/standard" --json > "$out/eval_long_standard.json"
for subject in cube star triangle; do
  $gf eval long --model "$model" --schedule "examples/eval_schedule_$subject.json" --seeds "$s8" --policies $four \
    --out "$out/$subject" --json > "$out/eval_long_$subject.json"
done
$gf eval long --model "$model" --schedule examples/eval_schedule_long.json --seeds "$s8" --policies $four \
  --out "$out/51x" --json > "$out/eval_long_51x.json"
$py docs/experiments/2026-12-03-training-seeds/compare.py grounded self_forcing standard="$out/eval_long_standard.json" \
  cube="$out/eval_long_cube.json" star="$out/eval_long_star.json" triangle="$out/eval_long_triangle.json" \
  51x="$out/eval_long_51x.json" | tee "$out/compare.txt"
