#!/usr/bin/env bash
# The second leased-GPU session's work (2026-12-04), run from the repository root on the device machine:
#   bash docs/experiments/2026-12-04-gpu-batch/device_run.sh OUT_DIR [DIT_SECONDS]
# (run on 2026-12-04 with DIT_SECONDS 330, which stopped the DiT at 1,149 of 1,500 steps; the whole schedule needs
#  about 435 s of DiT at 3.45 steps/s, so a next lease finishes it with SKIP_CUDA_TEST=1 and DIT_SECONDS 480 inside
#  a 560 s call)
# (a smoke test on a CPU: DEVICE=cpu TRAIN_EXTRA="--vae-steps 3 --dit-steps 3" ... OUT_DIR 60)
# 1. the CUDA test (frames against the CPU reference), which failed on the first lease before session noise was
#    drawn on a CPU generator;
# 2. `gf train world --recipe large` (the `small` DiT at batch 512) with a DiT time limit, all but 3 cores drawing data;
# 3. the trained weights packed for the trip back: the DiT in bf16 (load_weights casts it back to fp32), the rest as
#    trained, one tar split into 15 MB parts. Evaluation happens on the CPU afterwards.
set -u
out=$1; dit_s=${2:-480}
device=${DEVICE:-cuda}; train_extra=${TRAIN_EXTRA:-}; work=$(mktemp -d)
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
t0=$(date +%s); stamp() { echo "== $(( $(date +%s) - t0 )) s: $*"; }

stamp "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; nproc
python3 -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'numpy', numpy.__version__)"

stamp "pytest: the CUDA test"
[ "$device" = cuda ] && [ -z "${SKIP_CUDA_TEST:-}" ] && timeout 60 python3 -m pytest -q -p no:cacheprovider -o addopts="" tests/test_precision.py 2>&1 | tail -4

stamp "train: large"
workers=$(( $(nproc) > 4 ? $(nproc) - 3 : 1 ))
OMP_NUM_THREADS=2 python3 -m gf_runtime.cli train world --recipe large --device $device --data-workers $workers \
  --dit-time-limit "$dit_s" $train_extra --out "$work/large" > "$work/train_large.log" 2>&1
echo "rc $?"; tail -c 1500 "$work/train_large.log"; echo
nvidia-smi --query-gpu=memory.used --format=csv,noheader

stamp "pack"
python3 - "$work/large" <<'PY'
import sys, pathlib
from safetensors import safe_open
from safetensors.torch import save_file
path = pathlib.Path(sys.argv[1]) / "model.safetensors"
with safe_open(str(path), framework="pt") as f:
    meta, tensors = f.metadata(), {k: f.get_tensor(k).bfloat16() for k in f.keys()}
save_file(tensors, str(path), metadata=meta)
print("bf16 DiT", path.stat().st_size // 2**20, "MiB")
PY
cp "$work/train_large.log" "$work/large/"
tar -C "$work" -cf "$out/large.tar" large && split -b 15M -d "$out/large.tar" "$out/large.tar.part" && rm "$out/large.tar"
ls -la "$out"
stamp "done"
