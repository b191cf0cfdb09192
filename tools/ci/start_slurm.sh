#!/usr/bin/env bash
# Start a real single-node Slurm cluster (Debian's slurm-wlm, munge, slurmdbd + MariaDB for sacct) on this
# machine, for gml's launcher tests and benchmarks. Runs as root; no systemd needed. Idempotent: when the
# cluster already answers with an idle node it returns at once.
#
#   bash tools/ci/start_slurm.sh          # install (apt-get) if needed, configure, start, wait for the node
#   GML_SLURM_ACCOUNTING=0 bash ...       # no slurmdbd/MariaDB (sacct unavailable; faster)
#   GML_SLURM_CPUS=8 bash ...             # CPUs the node offers to jobs (default: max(real, 8); sleeping
#                                         #   test jobs need slots, not cores)
# Stop it with tools/ci/stop_slurm.sh.
set -euo pipefail

ACCOUNTING=${GML_SLURM_ACCOUNTING:-1}
STATE=/var/lib/gml-slurm
LOGS=/var/log/gml-slurm
CONF=/etc/slurm/slurm.conf
log() { printf '[start_slurm] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (apt-get and the Slurm daemons); run it as root or start Slurm yourself"
[ "$(uname -s)" = Linux ] || die "Linux only"

node_ready() {
  timeout 5 sinfo -h -N -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'
}
if command -v sinfo >/dev/null && [ -f "$CONF" ] && node_ready; then
  log "Slurm already running: $(sinfo -h -N -o '%N %t %c CPUs')"
  exit 0
fi

# -- packages --------------------------------------------------------------------------------------------
pkgs=(slurmctld slurmd slurm-client munge)
[ "$ACCOUNTING" = 1 ] && pkgs+=(slurmdbd mariadb-server)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # No daemon may start from a package's postinst: this script starts them, configured.
  policy_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
  fi
  if ! apt-cache show slurmctld >/dev/null 2>&1; then apt-get update -qq; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
  [ "$policy_added" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

# -- configuration (written before any Slurm command runs) -----------------------------------------------
host=$(hostname -s)
mkdir -p /etc/slurm "$STATE"/ctld "$STATE"/d "$LOGS" /run/munge /run/slurm
real=$(slurmd -C 2>/dev/null | head -1)   # NodeName=... CPUs=... RealMemory=...
real_cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$real")
mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$real")
cpus=${GML_SLURM_CPUS:-$(( real_cpus > 8 ? real_cpus : 8 ))}
acct_lines="AccountingStorageType=accounting_storage/none"
if [ "$ACCOUNTING" = 1 ]; then
  acct_lines="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/none"
fi
cat > "$CONF".new <<EOF
# written by gml tools/ci/start_slurm.sh: a single-node test cluster
ClusterName=gml
SlurmctldHost=$host
SlurmUser=root
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
EnforcePartLimits=ALL
SlurmdParameters=config_overrides
ReturnToService=2
JobRequeue=1
MinJobAge=300
KillWait=5
MpiDefault=none
$acct_lines
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
mv -f "$CONF".new "$CONF"

# -- munge -----------------------------------------------------------------------------------------------
chown munge:munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
if ! pgrep -u munge -x munged >/dev/null; then
  runuser -u munge -- /usr/sbin/munged
fi

# -- accounting: MariaDB + slurmdbd ----------------------------------------------------------------------
if [ "$ACCOUNTING" = 1 ]; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  if ! mysqladmin ping --silent >/dev/null 2>&1; then
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --auth-root-authentication-method=socket \
      >/dev/null 2>&1
    (setsid mariadbd-safe --skip-networking=0 --bind-address=127.0.0.1 >/dev/null 2>&1 &)
    for _ in $(seq 100); do mysqladmin ping --silent >/dev/null 2>&1 && break; sleep 0.1; done
    mysqladmin ping --silent >/dev/null 2>&1 || die "MariaDB did not start"
  fi
  mysql -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'gml-slurm';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
  cat > /etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=/run/slurm/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=gml-slurm
StorageLoc=slurm_acct_db
EOF
  chmod 600 /etc/slurm/slurmdbd.conf
  if ! pgrep -x slurmdbd >/dev/null; then slurmdbd; fi
  for _ in $(seq 100); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.1; done
  sacctmgr -n list cluster >/dev/null 2>&1 || die "slurmdbd did not answer; see $LOGS/slurmdbd.log"
  if ! sacctmgr -n -P list cluster format=cluster | grep -qx gml; then
    sacctmgr -i add cluster gml >/dev/null
  fi
fi

# -- slurmctld + slurmd ----------------------------------------------------------------------------------
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 300); do node_ready && break; sleep 0.1; done
if ! node_ready; then
  # a node left DOWN/DRAIN by an earlier run: return it to service
  scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
  for _ in $(seq 100); do node_ready && break; sleep 0.1; done
fi
node_ready || die "the node did not become idle: $(sinfo -N 2>&1 | tail -1); see $LOGS/"
log "Slurm up: $(sinfo -h -N -o '%N %t %c CPUs, partition %P'), accounting=$ACCOUNTING"
