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
SRUN_ARGS=${SRUN_ARGS:-}
# shellcheck source=tools/lib/slurm_srun_options.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/slurm_srun_options.sh"
# shellcheck disable=SC2086
exec srun "${srun_options[@]}" $SRUN_ARGS "${PYTHON:-python}" -u "$root/tools/test.py" "$CONFIG" "$CHECKPOINT" \
  --launcher=slurm "$@"
