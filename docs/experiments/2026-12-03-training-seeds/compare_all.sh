#!/bin/bash
# Regenerates compare.txt: the three trainings of the shipped recipe (seed 0 is the shipped model), paired per
# schedule. Run from the repository root.
D=docs/experiments/2026-12-03-training-seeds
S=docs/experiments/2026-12-03-seventh-training
for schedule in standard 51x cube; do
  echo "## $schedule schedule"
  for other in self_forcing grounded-no-dual-memory grounded-no-dr-rope; do
    python $D/compare.py grounded $other seed0=$S/eval_long_$schedule.json \
      seed1=$D/eval_long_${schedule}_seed1.json seed2=$D/eval_long_${schedule}_seed2.json
    echo
  done
done
