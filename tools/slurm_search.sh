#!/usr/bin/env bash
# Subnet search on a Slurm partition, OpenMMLab style:
#   bash tools/slurm_search.sh PARTITION JOB_NAME CONFIG CHECKPOINT [search_subnet.py args...]
# e.g. bash tools/slurm_search.sh gpu bignas_search configs/nas/bignas/bignas_mobilenetv3_digits.py \
#          work_dirs/bignas/latest.pth --flops-limit 3 --work-dir work_dirs/bignas_search
# Runs tools/search_subnet.py as one task (candidates scored in that task). To score candidates as parallel Slurm
# jobs instead, run tools/search_subnet.py on the login node with --launcher slurm --parallel N.
# GPUS_PER_TASK (default 1), CPUS_PER_TASK (default 5) and SRUN_ARGS (extra srun arguments) tune the request.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [search_subnet.py args...]" >&2
  exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
shift 4
GPUS_PER_TASK=${GPUS_PER_TASK:-1}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python}
GRES=()
if [ "$GPUS_PER_TASK" -gt 0 ]; then GRES=(--gres="gpu:${GPUS_PER_TASK}"); fi
# shellcheck disable=SC2086
exec srun -p "$PARTITION" --job-name="$JOB_NAME" --ntasks=1 "${GRES[@]}" \
  --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 $SRUN_ARGS \
  "$PYTHON" -u "$root/tools/search_subnet.py" "$CONFIG" "$CHECKPOINT" "$@"
