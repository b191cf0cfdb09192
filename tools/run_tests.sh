#!/usr/bin/env bash
# The test command: set up .venv (pinned), start the test clusters gml integrates with, run the whole suite.
# Extra arguments go to pytest (e.g. `bash tools/run_tests.sh -k grid -x`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash tools/setup_env.sh
if [ -x tools/ci/start_slurm.sh ]; then
  # A real single-node Slurm cluster for the launcher tests; its own script says why when it cannot start.
  bash tools/ci/start_slurm.sh || echo "[tests] Slurm could not be started; Slurm tests will be skipped with that reason" >&2
fi
# Debian's chromium for the dashboard's browser tests (they skip, saying so, when it cannot be installed).
bash tools/ci/install_browser.sh || echo "[tests] chromium could not be installed; dashboard browser tests will be skipped" >&2
exec "$root/.venv/bin/python" -m pytest -q -rs -p no:cacheprovider "$@"
