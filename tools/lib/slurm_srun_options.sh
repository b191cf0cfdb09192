# Sourced by tools/slurm_train.sh and tools/slurm_test.sh: the srun request of an OpenMMLab-style Slurm run.
# Reads PARTITION and JOB_NAME (set by the caller) and the environment: GPUS (tasks in all, default 8),
# GPUS_PER_NODE (tasks and GPUs per node, default min(GPUS, 8)), CPUS_PER_TASK (default 5), GRES (default
# gpu:$GPUS_PER_NODE; empty on CPU-only partitions), PORT (torch.distributed rendezvous port).
# Sets: root (the repository), srun_options (an array), PYTHONPATH (root first) and MASTER_PORT (when PORT is set).
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GRES=${GRES-gpu:${GPUS_PER_NODE}}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
srun_options=(-p "$PARTITION" --job-name="$JOB_NAME" --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE"
              --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1)
if [ -n "$GRES" ]; then srun_options+=(--gres="$GRES"); fi
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
if [ -n "${PORT:-}" ]; then export MASTER_PORT=$PORT; fi   # torch.distributed rendezvous (default 29500)
