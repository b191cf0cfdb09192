#!/usr/bin/env bash
# gml's checks on a CUDA machine, in one run of a few minutes: the environment, the one-step benchmarks on the GPU
# (DMCP incl. its peak-memory ratio at ImageNet size, BigNAS, distillation, QAT), real training through
# tools/train.py of a DMCP, a distillation and a QAT config on one GPU, and DMCP trained distributed over NCCL by
# tools/dist_train.sh (world size 1). Every step has its own time limit and a failed step does not stop the
# others; a PASS/FAIL summary ends the log.
#   bash tools/ci/gpu_checks.sh            # from the repository root, with the wheels of tools/ci/gpu_wheels.sh in .whl/
# Environment:
#   OUT                       where the results go (default work_dirs/gpu_checks): gpu_checks.log (everything),
#                             summary.txt, benchmarks.txt, and the mmcv log.json of each training run
#   GML_GPU_CHECKS_DEVICE     cuda (default) or cpu: a dry run of every command line on CPU (gloo instead of NCCL,
#                             smaller ImageNet-size benchmark)
#   GML_GPU_CHECKS_BUDGET     seconds for all steps together (default 420; CPU: 8x); a step gets at most what is
#                             left (the steps' own limits are 8x too on CPU)
#   GML_GPU_CHECKS_SITE       where the wheels are installed (default /tmp/gml_gpu_site); PYTHON (default python3)
#   GML_GPU_CHECKS_WORK       work directories of the training runs (default /tmp/gml_gpu_work); PORT (29631)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
PY="${PYTHON:-python3}"
DEV="${GML_GPU_CHECKS_DEVICE:-cuda}"
OUT="${OUT:-$root/work_dirs/gpu_checks}"
SITE="${GML_GPU_CHECKS_SITE:-/tmp/gml_gpu_site}"
WORK="${GML_GPU_CHECKS_WORK:-/tmp/gml_gpu_work}"
export PORT="${PORT:-29631}" PYTHON="$PY"
case "$DEV" in
  cuda) BACKEND=nccl; IMAGENET_BATCH=32; IMAGENET_SIZE=224; REPEATS=5; scale=1 ;;
  cpu)  BACKEND=gloo; IMAGENET_BATCH=2; IMAGENET_SIZE=64; REPEATS=2; scale=8 ;;
  *) echo "GML_GPU_CHECKS_DEVICE must be cuda or cpu, got '$DEV'" >&2; exit 2 ;;
esac
BUDGET="${GML_GPU_CHECKS_BUDGET:-$((420 * scale))}"
mkdir -p "$OUT" "$WORK"
rm -f "$OUT/gpu_checks.log" "$OUT/summary.txt" "$OUT/benchmarks.txt"
exec > >(tee -a "$OUT/gpu_checks.log") 2>&1
tee_pid=$!
start=$SECONDS
results=()

# step NAME SECONDS CMD...: run CMD under `timeout` (at most the budget left), log it, record PASS/FAIL.
step() {
  local name=$1 limit=$(($2 * scale)); shift 2
  local left=$((BUDGET - (SECONDS - start)))
  if [ "$left" -lt 10 ]; then
    results+=("FAIL  $name (skipped: the ${BUDGET}s budget is spent)")
    return 1
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo; echo "===== [$((SECONDS - start))s] $name (limit ${limit}s): $*"
  local t0=$SECONDS rc
  if declare -F "$1" >/dev/null; then set -- bash -c '"$@"' "$1" "$@"; fi  # a function of this script (exported)
  timeout -k 10 "$limit" "$@"
  rc=$?
  local took=$((SECONDS - t0))
  if [ "$rc" -eq 0 ]; then results+=("PASS  $name (${took}s)"); else
    results+=("FAIL  $name (rc=$rc$([ "$rc" -eq 124 ] && echo ', timed out'), ${took}s)"); fi
  echo "===== $name: rc=$rc after ${took}s"
  return "$rc"
}

# bench NAME SECONDS CMD...: a step whose output is also appended to benchmarks.txt
bench() {
  local name=$1 limit=$2; shift 2
  local log="$WORK/bench.out"
  step "$name" "$limit" "$@" > "$log" 2>&1
  local rc=$?
  cat "$log"
  # without warnings and mmcv's weight-initialisation notices (gpu_checks.log has all)
  { echo "### $name: $*"; grep -v -E "Warning|warn\(| - mmcv - INFO - |torch\.Size\(|Init: |value is the same|Initialized by |^\s*$" \
      "$log"; echo; } >> "$OUT/benchmarks.txt"
  return "$rc"
}

# install_wheels: the wheels of .whl/ into $SITE; setuptools only where the environment has none (mmcv imports
# torch.utils.cpp_extension, which imports setuptools; torch depends on it from Python 3.12 on)
install_wheels() {
  rm -rf "$SITE"
  local wheels=() w
  for w in .whl/*.whl; do
    case "$(basename "$w")" in
      setuptools-*) "$PY" -c "import setuptools" 2>/dev/null || wheels+=("$w") ;;
      *) wheels+=("$w") ;;
    esac
  done
  echo "installing ${wheels[*]} into $SITE"
  if "$PY" -m pip --version >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "${wheels[@]}"
  else  # no pip in this environment: pure-Python wheels are zip files to unpack
    "$PY" -c 'import sys, zipfile; [zipfile.ZipFile(w).extractall(sys.argv[1]) for w in sys.argv[2:]]' "$SITE" \
      "${wheels[@]}"
  fi
}

# check_train_log WORKDIR [dist]: the run trained (loss in its log.json) on $DEV; on CUDA mmcv's TextLoggerHook logs
# torch.cuda.max_memory_allocated as `memory` (MB), which stays 0 for a model on the CPU.
check_train_log() {
  "$PY" - "$1" "$DEV" "${2:-}" "$BACKEND" <<'PY'
import glob, json, os, sys
work_dir, device, dist, backend = sys.argv[1:5]
logs = sorted(glob.glob(os.path.join(work_dir, "*.log.json")))
if not logs:
    sys.exit(f"no *.log.json in {work_dir}")
lines = [json.loads(l) for l in open(logs[-1]) if l.strip()]
train = [l for l in lines if l.get("mode") == "train"]
val = [l for l in lines if l.get("mode") == "val"]
if not train or "loss" not in train[-1]:
    sys.exit(f"{logs[-1]}: no training loss logged")
text = open(logs[-1][:-len(".json")]).read()
if f"device = '{device}'" not in text:
    sys.exit(f"the config in {logs[-1][:-5]} does not say device = '{device}'")
memory = max(l.get("memory", 0) for l in train)
if device == "cuda" and memory <= 0:
    sys.exit(f"no CUDA memory logged in {logs[-1]}: the model did not run on the GPU")
if dist and ("Distributed training: True" not in text or f"backend='{backend}'" not in text):
    sys.exit(f"{logs[-1][:-5]} does not show distributed training over {backend}")
print(f"{os.path.basename(work_dir)}: {len(train)} train log lines, last loss {train[-1]['loss']:.4f}, "
      f"val {val[-1] if val else '-'}, peak CUDA memory {memory} MB, device {device}"
      + (f", distributed over {backend}" if dist else ""))
PY
}

# train NAME CONFIG SECONDS [train.py options]: tools/train.py on one device, then check its log
train() {
  local name=$1 config=$2 limit=$3; shift 3
  rm -rf "${WORK:?}/$name"
  step "train $name" "$limit" "$PY" tools/train.py "$config" --work-dir "$WORK/$name" --device "$DEV" \
    --gpu-id 0 --seed 0 "$@" && step "train $name: ran on $DEV" 60 check_train_log "$WORK/$name"
  cp "$(ls "$WORK/$name"/*.log.json 2>/dev/null | tail -1)" "$OUT/train_$name.log.json" 2>/dev/null
}
export -f install_wheels check_train_log
export PY DEV BACKEND SITE

echo "gml GPU checks on ${HOSTNAME:-?} at $(date -u '+%F %T') UTC, device $DEV, budget ${BUDGET}s, repo $root"
step "install wheels (.whl/)" 120 install_wheels
export PYTHONPATH="$SITE:$root${PYTHONPATH:+:$PYTHONPATH}"

# 1. environment
if [ "$DEV" = cuda ]; then step "nvidia-smi" 30 nvidia-smi; fi
step "torch/CUDA environment" 90 "$PY" -c "
import gml.models, sys, torch, torchvision, mmcv, mmcls, gml
print('python', sys.version.split()[0], '| torch', torch.__version__, '| CUDA', torch.version.cuda,
      '| cuDNN', torch.backends.cudnn.version(), '| torchvision', torchvision.__version__, '| mmcv', mmcv.__version__,
      '| mmcls', mmcls.__version__, '| gml', gml.__version__)
print('cuda available:', torch.cuda.is_available(), '| devices:', torch.cuda.device_count(),
      '| nccl:', torch.distributed.is_nccl_available())
if '$DEV' == 'cuda':
    assert torch.cuda.is_available(), 'CUDA is not available to torch'
    print(torch.cuda.get_device_name(0), (torch.ones(2, device='cuda') * 2).sum().item())
"

# 2. one-step benchmarks on the device
bench "benchmark dmcp_step (digits16, memory)" 120 "$PY" benchmarks/dmcp_step.py --device "$DEV" --memory \
  --repeats "$REPEATS" --warmup 1
bench "benchmark dmcp_step (ImageNet resnet50, memory)" 150 "$PY" benchmarks/dmcp_step.py --imagenet resnet50 \
  --size "$IMAGENET_SIZE" --batch "$IMAGENET_BATCH" --device "$DEV" --memory --repeats "$REPEATS" --warmup 1 --profile
bench "benchmark bignas_step" 90 "$PY" benchmarks/bignas_step.py --device "$DEV" --repeats "$REPEATS" --warmup 1 --profile
bench "benchmark distill_step" 90 "$PY" benchmarks/distill_step.py --device "$DEV" --repeats "$((REPEATS * 2))" --profile
bench "benchmark qat_step (training step only)" 90 "$PY" benchmarks/qat_step.py --device "$DEV" --train-only \
  --repeats "$((REPEATS * 2))"

# 3. real training through tools/train.py on one device (digits)
train dmcp configs/pruning/dmcp/dmcp_resnet_digits16.py 120 --cfg-options runner.max_epochs=2 \
  algorithm.algorithm_cfg.arch_start_train=10 algorithm.distill_iter=10
train distill configs/distill/kd_logits_mobilenet_v2_to_resnet18_w8_digits.py 120 --cfg-options \
  runner.max_epochs=1 algorithm.distiller.distill_cfg.ckpt_path=None
train qat configs/quantization/qat_resnet18_digits.py 120 --cfg-options runner.max_epochs=1

# 4. distributed: tools/dist_train.sh, one process on the GPU over NCCL (gloo in the CPU dry run)
rm -rf "$WORK/dist_dmcp"
step "dist_train.sh dmcp, 1 process, $BACKEND" 150 bash tools/dist_train.sh \
  configs/pruning/dmcp/dmcp_resnet_digits16.py 1 --work-dir "$WORK/dist_dmcp" --device "$DEV" --seed 0 \
  --cfg-options runner.max_epochs=1 algorithm.algorithm_cfg.arch_start_train=10 algorithm.distill_iter=10 \
  dist_params.backend="$BACKEND" \
  && step "dist_train.sh dmcp: ran on $DEV over $BACKEND" 60 check_train_log "$WORK/dist_dmcp" dist
cp "$(ls "$WORK/dist_dmcp"/*.log.json 2>/dev/null | tail -1)" "$OUT/dist_dmcp.log.json" 2>/dev/null

echo; echo "===== summary ($DEV, $((SECONDS - start))s)"
printf '%s\n' "${results[@]}" | tee "$OUT/summary.txt"
failed=$(printf '%s\n' "${results[@]}" | grep -c '^FAIL')
exec >&- 2>&-
wait "$tee_pid"
[ "$failed" -eq 0 ]
