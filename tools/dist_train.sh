#!/usr/bin/env bash
# Distributed training on one node (or several, with NNODES/NODE_RANK/MASTER_ADDR): one process per GPU, or per
# CPU process group (gloo) where there is no GPU.
#   bash tools/dist_train.sh CONFIG NPROC [tools/train.py options ...]
# Environment: PYTHON (default: python), PORT (29500), NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG NPROC [train.py options ...]" >&2
  exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "${PYTHON:-python}" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
  --master_port="${PORT:-29500}" --nproc_per_node="$NPROC" \
  "$here/train.py" "$CONFIG" --launcher pytorch "$@"
