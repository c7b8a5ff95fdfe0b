#!/usr/bin/env bash
# One leased-GPU session's work (2026-12-04), run from the repository root on the device machine:
#   bash docs/experiments/2026-12-04-gpu-large/device_run.sh OUT_DIR [DIT_SECONDS] [EVAL_SECONDS]
# (a smoke test on a CPU: DEVICE=cpu TRAIN_EXTRA="--vae-steps 3 --dit-steps 3" SEEDS=0 ... OUT_DIR 60 60)
# 1. `gf bench speed` on the Wan2.1-1.3B shape (random weights, bf16, 832x480) for issue 3's GPU bar;
# 2. `gf train world --recipe large` (the `small` DiT) and, side by side, the same recipe with the `tiny` DiT, each
#    with a DiT time limit;
# 3. `gf eval long` of both on every shipped schedule, one process per model and schedule, on the GPU.
# Everything lands in OUT_DIR; a final tar of it, split into 15 MB parts, is what comes back.
set -u
out=$1; dit_s=${2:-220}; eval_s=${3:-170}
device=${DEVICE:-cuda}; train_extra=${TRAIN_EXTRA:-}; work=$(mktemp -d)
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
gf() { python3 -m gf_runtime.cli "$@"; }
t0=$(date +%s); stamp() { echo "== $(( $(date +%s) - t0 )) s: $*"; }

stamp "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; nproc
python3 -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'numpy', numpy.__version__)"

stamp "smoke: train and eval a few steps on the device (stops here on failure)"
gf train world --recipe large --device $device --vae-steps 4 --dit-steps 4 --out "$work/smoke" > "$work/smoke.log" 2>&1 \
  && gf eval long --model "$work/smoke" --device $device --seeds 0 --policies grounded --json --out "$work/smoke_eval" \
  >> "$work/smoke.log" 2>&1
rc=$?; tail -c 1500 "$work/smoke.log"; echo; [ $rc -eq 0 ] || { echo "smoke failed: rc $rc"; exit 3; }
rm -rf "$work/smoke" "$work/smoke_eval"

stamp "bench: wan2.1-t2v-1.3b shape"
[ "$device" = cuda ] && timeout 80 python3 -m gf_runtime.cli bench speed --model wan2.1-t2v-1.3b-random --device $device --dtype bf16 \
  --chunks 30 --policies grounded,self_forcing --json --plot "$work/bench_wan.png" > "$work/bench_wan.jsonl" \
  2> "$work/bench_wan.err"; echo "rc $?"; cat "$work/bench_wan.jsonl"; tail -3 "$work/bench_wan.err"

stamp "pytest: the CUDA test"
[ "$device" = cuda ] && timeout 60 python3 -m pytest -q -p no:cacheprovider -o addopts="" tests/test_precision.py 2>&1 | tail -3

stamp "train: large (small DiT) and large-tiny (tiny DiT), side by side"
OMP_NUM_THREADS=2 gf train world --recipe large --device $device --data-workers 6 --dit-time-limit "$dit_s" $train_extra \
  --out "$work/large" > "$work/train_large.log" 2>&1 &
p1=$!
OMP_NUM_THREADS=2 gf train world --recipe large --device $device --data-workers 6 --dit-time-limit "$dit_s" $train_extra \
  --dit-shape tiny --out "$work/large_tiny" > "$work/train_large_tiny.log" 2>&1 &
p2=$!
wait $p1; echo "large rc $?"; wait $p2; echo "large_tiny rc $?"
tail -c 600 "$work/train_large.log"; echo; tail -c 600 "$work/train_large_tiny.log"; echo

stamp "eval"
pids=()
for model in large large_tiny; do
  [ -f "$work/$model/model.safetensors" ] || continue
  for sched in standard cube star triangle long; do
    case $sched in
      standard) file=examples/eval_schedule.json; seeds=${SEEDS:-0,1,2,3,4,5,6,7}
                pol=self_forcing,longlive,grounded,grounded-no-dual-memory,grounded-no-dr-rope,grounded-no-apr ;;
      long) file=examples/eval_schedule_long.json; seeds=${SEEDS:-0,1,2,3}; pol=self_forcing,longlive,grounded,grounded-no-dr-rope ;;
      *) file=examples/eval_schedule_$sched.json; seeds=${SEEDS:-0,1,2,3,4,5,6,7}; pol=self_forcing,longlive,grounded,grounded-no-dr-rope ;;
    esac
    OMP_NUM_THREADS=1 timeout "$eval_s" python3 -m gf_runtime.cli eval long --model "$work/$model" --device $device \
      --schedule $file --seeds $seeds --policies $pol --json --out "$work/eval_${model}_$sched" \
      > "$work/eval_${model}_$sched.json" 2> "$work/eval_${model}_$sched.err" &
    pids+=($!)
  done
done
for p in "${pids[@]}"; do wait $p; done
for f in "$work"/eval_*.json; do echo "$f $(wc -c < "$f")"; done
python3 - "$work" <<'PY'
import json, pathlib, sys
for f in sorted(pathlib.Path(sys.argv[1]).glob("eval_*.json")):
    try:
        d = json.loads(f.read_text())
    except ValueError:
        print(f.name, "no result"); continue
    print(f.name, {k: (round(v["consistency"], 3), round(v["consistency_early"], 3), round(v["consistency_late"], 3),
                       round(v["drift"], 4)) for k, v in d["policies"].items()})
PY

stamp "pack"
tar -C "$work" --exclude='large/model.safetensors' -cf "$out/all.tar" . && split -b 15M -d "$out/all.tar" "$out/part" && rm "$out/all.tar"
ls -la "$out"
stamp "done"
