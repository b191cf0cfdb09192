#!/usr/bin/env bash
# Distributed testing on one node (or several, with NNODES/NODE_RANK/MASTER_ADDR): one process per GPU, or per
# CPU process group (gloo) where there is no GPU. Rank 0 prints the metrics and writes --out.
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [tools/test.py options ...]
# Environment: PYTHON (default: python), PORT (29500), NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 CONFIG CHECKPOINT NPROC [test.py options ...]" >&2
  exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "${PYTHON:-python}" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
  --master_port="${PORT:-29500}" --nproc_per_node="$NPROC" \
  "$here/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
