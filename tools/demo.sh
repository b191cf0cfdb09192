#!/usr/bin/env bash
# The demo: set up .venv (pinned), then run a real hyper-parameter search over an MLP trained on scikit-learn's
# bundled digits (configs/search/digits_mlp.yaml, 12 jobs, 2 at a time) and print the best configurations.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash tools/setup_env.sh
export PATH="$root/.venv/bin:$PATH"
task=${GML_DEMO_TASK:-digits-demo}
search-init
if [ -d ".search-run/tasks/$task" ]; then
  search-ctl rm -t "$task"
fi
search-run configs/search/digits_mlp.yaml --task "$task"
echo
echo "== the best 3 configurations (search-ctl show-scalar -t $task -rt +3) =="
search-ctl show-scalar -t "$task" -rt +3
