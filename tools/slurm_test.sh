#!/usr/bin/env bash
# Test a checkpoint on a Slurm partition, OpenMMLab style:
#   bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [tools/test.py options ...]
# Environment as tools/slurm_train.sh: GPUS, GPUS_PER_NODE, CPUS_PER_TASK, GRES, SRUN_ARGS, PYTHON, PORT.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options ...]" >&2
  exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
shift 4
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
exec srun "${opts[@]}" $SRUN_ARGS "${PYTHON:-python}" -u "$root/tools/test.py" "$CONFIG" "$CHECKPOINT" \
  --launcher=slurm "$@"
