#!/usr/bin/env bash
# One CUDA check of gansuite, under 8 minutes on one GPU; writes its results into docs/GPU.md.
#
#   bash benchmarks/gpu_check.sh            # on a machine with CUDA, from anywhere in the repo
#   bash benchmarks/gpu_check.sh --dry-run  # on the CPU: checks the script, writes /tmp/.../GPU.md
#
# Steps (each under its own time limit, so one stuck step cannot eat the budget):
#   1. pytest -m gpu          the gpu-marked tests (trainer on CUDA, AMP, resume, host syncs)
#   2. training speed         x4-psnr, x4-gan (recipe and 8x batch) and x4-gan-rrdb train_step, fp32/fp16/bf16
#   3. resume on CUDA         gansuite train upscale, straight vs resumed in a new process
#   4. upscale speed          gansuite benchmark speed --model x4 --no-training (fp32, fp16, bf16)
#   5. report                 the section between the gpu_check markers of docs/GPU.md
# Set GANSUITE_BACKBONES to a folder with VGG16 weights to time x4-gan with its perceptual loss.
set -uo pipefail

cd "$(dirname "$0")/.."
DRY_RUN=""
if [[ "${1:-}" == "--dry-run" ]]; then
  DRY_RUN="--dry-run"
fi
PYTHON="${PYTHON:-python}"
if [[ -x .venv/bin/python && "$PYTHON" == "python" ]]; then
  PYTHON=.venv/bin/python
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
REPORT=docs/GPU.md
if [[ -n "$DRY_RUN" ]]; then
  REPORT="$WORK/GPU.md"
  cp docs/GPU.md "$REPORT"
fi
export PYTHONUNBUFFERED=1
started=$SECONDS
echo "gpu_check: results in $WORK, report to $REPORT"

step() {  # step NAME LIMIT_SECONDS COMMAND... : run with a time limit, never stop the script
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit}s, $((SECONDS - started))s used)"
  timeout --signal=TERM --kill-after=10 "$limit" "$@"
  local code=$?
  if [[ $code -ne 0 ]]; then
    echo "== $name: exit $code"
  fi
  return 0
}

if [[ -n "$DRY_RUN" ]]; then
  # on the CPU the gpu tests skip; collecting them still checks that they import
  step "pytest -m gpu" 120 bash -c "$PYTHON -m pytest -m gpu -rA -q -p no:cacheprovider tests 2>&1 | tee '$WORK/pytest_gpu.log'"
  step "upscale speed" 240 "$PYTHON" -m gansuite.cli benchmark speed --model x4 --device cpu --precision fp32 \
    --size 32 --repeats 1 --warmup 0 --no-training --markdown "$WORK/upscale_speed.md"
else
  step "pytest -m gpu" 150 bash -c "$PYTHON -m pytest -m gpu -rA -q -p no:cacheprovider tests 2>&1 | tee '$WORK/pytest_gpu.log'"
  step "upscale speed" 90 "$PYTHON" -m gansuite.cli benchmark speed --model x4 --device cuda \
    --precision fp32,fp16,bf16 --size 512 --repeats 10 --warmup 3 --no-training --markdown "$WORK/upscale_speed.md"
fi
step "training speed" 200 "$PYTHON" benchmarks/gpu_check.py training-speed --json "$WORK/training_speed.json" $DRY_RUN
step "resume on CUDA" 100 "$PYTHON" benchmarks/gpu_check.py resume --json "$WORK/resume.json" $DRY_RUN
step "report" 30 "$PYTHON" benchmarks/gpu_check.py report --work "$WORK" --out "$REPORT" $DRY_RUN
echo "gpu_check: done in $((SECONDS - started))s; report: $REPORT"
