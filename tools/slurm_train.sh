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
SRUN_ARGS=${SRUN_ARGS:-}
# shellcheck source=tools/lib/slurm_srun_options.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/slurm_srun_options.sh"
# shellcheck disable=SC2086
exec srun "${srun_options[@]}" $SRUN_ARGS "${PYTHON:-python}" -u "$root/tools/train.py" "$CONFIG" "${WORK_DIR[@]}" \
  --launcher=slurm "$@"
