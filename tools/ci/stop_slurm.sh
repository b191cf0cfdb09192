#!/usr/bin/env bash
# Stop the test cluster that tools/ci/start_slurm.sh started: cancel its jobs, then end slurmd, slurmctld,
# slurmdbd, MariaDB and munged (each by its pid file or its exact process name, as root). Idempotent.
set -uo pipefail
log() { printf '[stop_slurm] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { log "needs root"; exit 1; }
if command -v scancel >/dev/null && timeout 5 squeue -h >/dev/null 2>&1; then
  timeout 10 scancel --user=root >/dev/null 2>&1 || true
fi
stop_pidfile() {   # NAME PIDFILE
  local pid
  pid=$(cat "$2" 2>/dev/null) || pid=$(pgrep -x "$1" | head -1)
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "$1 ($pid) did not stop in 10s; killing it"
  kill -9 "$pid" 2>/dev/null || true
}
stop_pidfile slurmd /run/slurm/slurmd.pid
stop_pidfile slurmctld /run/slurm/slurmctld.pid
stop_pidfile slurmdbd /run/slurm/slurmdbd.pid
if command -v mysqladmin >/dev/null && mysqladmin ping --silent >/dev/null 2>&1; then
  mysqladmin shutdown >/dev/null 2>&1 || true
fi
stop_pidfile munged /run/munge/munged.pid
log "stopped"
