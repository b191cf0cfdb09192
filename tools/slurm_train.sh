#!/usr/bin/env bash
# Train on a Slurm partition, OpenMMLab style (one task per GPU, `--launcher slurm`):
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [tools/train.py options ...]
# Environment: GPUS (tasks in all, default 8), GPUS_PER_NODE (tasks and GPUs per node, default min(GPUS, 8)),
# CPUS_PER_TASK (default 5), GRES (default gpu:$GPUS_PER_NODE; set it empty on CPU-only partitions),
# SRUN_ARGS (more srun options, e.g. "--quotatype=auto"), PYTHON (default python), PORT (rendezvous port).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py options ...]" >&2
  exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
WORK_DIR=()
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then WORK_DIR=(--work-dir="$1"); shift; fi
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GRES=${GRES-gpu:${GPUS_PER_NODE}}
SRUN_ARGS=${SRUN_ARGS:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
opts=(-p "$PARTITION" --job-name="$JOB_NAME" --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE"
      --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1)
if [ -n "$GRES" ]; then opts+=(--gres="$GRES"); fi
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
if [ -n "${PORT:-}" ]; then export MASTER_PORT=$PORT; fi   # torch.distributed rendezvous (default 29500)
# shellcheck disable=SC2086
exec srun "${opts[@]}" $SRUN_ARGS "${PYTHON:-python}" -u "$root/tools/train.py" "$CONFIG" "${WORK_DIR[@]}" \
  --launcher=slurm "$@"
