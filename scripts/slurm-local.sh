#!/usr/bin/env bash
# A throwaway one-node Slurm cluster on this machine, for running the workflow through the Slurm
# executor plugin (`snakemake --profile profiles/slurm ...`) and for the `slurm` tests.
#
#   scripts/slurm-local.sh install   # Debian packages: slurmctld slurmd slurmdbd munge mariadb (needs root)
#   scripts/slurm-local.sh start     # munged + MariaDB + slurmdbd + slurmctld + slurmd, all under $DIR
#   scripts/slurm-local.sh env       # print the exports that point Slurm's commands at this cluster
#   scripts/slurm-local.sh status    # sinfo of the local cluster
#   scripts/slurm-local.sh stop      # stop exactly the daemons `start` started (by their PID files)
#
# `start` first stops what an earlier run in the same $DIR left behind (a killed test, a CI timeout): its
# daemons, found by their PID files, and an unfinished `start`; so a second `start` restarts the cluster.
# `stop` is idempotent; it never kills a process that is not this $DIR's (a PID file's process counts
# only if its name is the daemon's and its command line, or for slurmdbd its SLURM_CONF, names $DIR), and
# it also stops this $DIR's daemons whose PID file was never written (a `start` killed half-way).
#
# Everything (configs, keys, spool, state, logs, database, PID files) lives under one directory:
# $SLURM_LOCAL_DIR, default .slurm-local/ in the repository (git-ignored). Nothing under /etc is written.
#
# Facts this script is built around (Slurm 22.05, snakemake-executor-plugin-slurm 2.8):
# - the plugin polls job states with `sacct`, which needs accounting: slurmdbd + MariaDB;
# - the plugin's job step strips SLURM_* (SLURM_CONF included) from the environment of the `srun` it
#   starts inside a job, so the commands are wrapped: $DIR/bin/{srun,sbatch,sacct,...} set SLURM_CONF and
#   exec the real command; `env` puts $DIR/bin first on PATH;
# - no cgroups here: ProctrackType=proctrack/linuxproc, TaskPlugin=task/none;
# - munged needs its socket directory to be world-executable.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${SLURM_LOCAL_DIR:-$ROOT/.slurm-local}"
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac # absolute: processes are recognised by it
CTLD_PORT="${SLURM_LOCAL_CTLD_PORT:-16817}"
SLURMD_PORT="${SLURM_LOCAL_SLURMD_PORT:-16818}"
DBD_PORT="${SLURM_LOCAL_DBD_PORT:-16819}"
DB_PORT="${SLURM_LOCAL_DB_PORT:-16306}"
CLUSTER=hrlmeta
PACKAGES=(slurmctld slurmd slurm-client slurmdbd munge mariadb-server)

log() { echo "slurm-local: $*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

have_binaries() {
    local b
    for b in slurmctld slurmd slurmdbd munged mariadbd mariadb-install-db sbatch sacct sacctmgr sinfo; do
        command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || return 1
    done
}

cmd_install() {
    if have_binaries; then
        log "Slurm, munge and MariaDB are installed"
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "installing ${PACKAGES[*]} needs root (or install them yourself)"
    command -v apt-get >/dev/null || die "no apt-get: install ${PACKAGES[*]} with this system's package manager"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >"${TMPDIR:-/tmp}/slurm-local-apt.log" 2>&1 ||
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >"${TMPDIR:-/tmp}/slurm-local-apt.log" 2>&1 ||
        die "apt-get install ${PACKAGES[*]} failed (log: ${TMPDIR:-/tmp}/slurm-local-apt.log)"
    have_binaries || die "packages installed but binaries missing"
    log "installed ${PACKAGES[*]}"
}

export PATH="$PATH:/usr/sbin:/sbin"

DAEMONS="munged mariadbd slurmdbd slurmctld slurmd slurmstepd"

# Is process $1 one of this $DIR's daemons? Its name is a daemon's, and an argument of its command line is
# (or ends in `=`) a path under $DIR, or (slurmdbd has no arguments) its environment has this SLURM_CONF.
# A recycled PID (another process, another cluster's daemon) is not.
ours() {
    local pid=$1 comm a
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
    case " $DAEMONS " in *" $comm "*) ;; *) return 1 ;; esac
    while IFS= read -r -d '' a; do
        case "$a" in "$DIR/"* | *"=$DIR/"*) return 0 ;; esac
    done 2>/dev/null <"/proc/$pid/cmdline"
    while IFS= read -r -d '' a; do
        [ "$a" = "SLURM_CONF=$DIR/etc/slurm.conf" ] && return 0
    done 2>/dev/null <"/proc/$pid/environ"
    return 1
}

# The process of a PID file, if it is still running and is this $DIR's daemon.
alive() { [ -s "$1" ] && ours "$(cat "$1")"; }

# This $DIR's daemons found by scanning /proc (whatever their PID files say).
cluster_pids() {
    local p
    for p in /proc/[0-9]*; do
        ours "${p#/proc/}" && echo "${p#/proc/}"
    done
    return 0
}

# kill_wait PID WHAT: SIGTERM, up to 10 s to exit, then SIGKILL.
kill_wait() {
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    log "stopped $2 ($pid)"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
    local t=$1 what=$2
    shift 2
    for _ in $(seq 1 $((t * 4))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.25
    done
    die "timed out after ${t}s waiting for $what (logs: $DIR/log)"
}

write_configs() {
    local host cpus mem
    host="$(hostname -s)"
    cpus="$(nproc)"
    mem="$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))"
    mkdir -p "$DIR"/{etc,log,run,spool/slurmd,state,munge,mysql,bin}
    chmod 755 "$DIR" "$DIR/munge" # munged: socket directory world-executable

    cat >"$DIR/etc/slurm.conf" <<EOF
# one-node cluster written by scripts/slurm-local.sh
ClusterName=$CLUSTER
SlurmctldHost=$host
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/slurmd
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# keep finished jobs visible to squeue for a while (the plugin can poll with squeue as well)
MinJobAge=3600
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT
# the munge socket used to authenticate to slurmdbd (AuthInfo covers the other daemons)
AccountingStoragePass=$DIR/munge/munge.socket
MailProg=/bin/true
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
    cat >"$DIR/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=$(id -un)
PidFile=$DIR/run/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$DIR/etc/slurmdbd.conf"
    : >"$DIR/etc/cgroup.conf"

    # Slurm's client commands, pointed at this cluster even where SLURM_CONF was stripped
    local c
    for c in srun sbatch sacct squeue scancel sinfo scontrol sacctmgr salloc; do
        cat >"$DIR/bin/$c" <<EOF
#!/bin/sh
SLURM_CONF="$DIR/etc/slurm.conf" exec /usr/bin/$c "\$@"
EOF
        chmod 755 "$DIR/bin/$c"
    done
    cat >"$DIR/env.sh" <<EOF
export SLURM_CONF="$DIR/etc/slurm.conf"
export PATH="$DIR/bin:\$PATH"
EOF
}

start_munge() {
    alive "$DIR/run/munged.pid" && return 0
    [ -s "$DIR/munge/munge.key" ] || {
        dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
        chmod 400 "$DIR/munge/munge.key"
    }
    munged --force --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
        --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munge.seed"
    wait_for 10 munged munge --socket="$DIR/munge/munge.socket" -n
}

start_mariadb() {
    alive "$DIR/run/mariadb.pid" && return 0
    if [ ! -d "$DIR/mysql/mysql" ]; then
        mariadb-install-db --no-defaults --datadir="$DIR/mysql" --user="$(id -un)" \
            --auth-root-authentication-method=socket >"$DIR/log/mariadb-install.log" 2>&1 ||
            die "mariadb-install-db failed (log: $DIR/log/mariadb-install.log)"
    fi
    mariadbd --no-defaults --datadir="$DIR/mysql" --user="$(id -un)" --bind-address=127.0.0.1 \
        --port="$DB_PORT" --socket="$DIR/run/mysql.sock" --pid-file="$DIR/run/mariadb.pid" \
        --log-error="$DIR/log/mariadb.log" --innodb-buffer-pool-size=64M --skip-log-bin \
        </dev/null >/dev/null 2>&1 &
    wait_for 60 MariaDB mariadb --no-defaults --socket="$DIR/run/mysql.sock" -e "SELECT 1"
    mariadb --no-defaults --socket="$DIR/run/mysql.sock" <<'EOF'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF
}

cmd_start() {
    have_binaries || die "Slurm/munge/MariaDB not installed: run '$0 install' (root) first"
    # an earlier run in this $DIR that was killed (or never stopped): stop its daemons and its `start`
    STOP_WHAT="stale" cmd_stop
    mkdir -p "$DIR/run"
    echo $$ >"$DIR/run/start.pid"
    trap 'if [ "$(cat "$DIR/run/start.pid" 2>/dev/null)" = $$ ]; then rm -f "$DIR/run/start.pid"; fi' EXIT
    write_configs
    export SLURM_CONF="$DIR/etc/slurm.conf"
    start_munge
    start_mariadb
    # slurmdbd reads slurmdbd.conf from the directory of $SLURM_CONF
    alive "$DIR/run/slurmdbd.pid" || slurmdbd
    wait_for 60 slurmdbd sacctmgr -n list cluster
    sacctmgr -i -Q add cluster "$CLUSTER" >/dev/null 2>&1 || true
    sacctmgr -i -Q add account hrlmeta Cluster="$CLUSTER" Description=hrlmeta Organization=hrlmeta >/dev/null 2>&1 || true
    sacctmgr -i -Q add user "$(id -un)" Account=hrlmeta Cluster="$CLUSTER" >/dev/null 2>&1 || true
    alive "$DIR/run/slurmctld.pid" || slurmctld -f "$SLURM_CONF"
    wait_for 60 slurmctld scontrol ping
    alive "$DIR/run/slurmd.pid" || slurmd -f "$SLURM_CONF"
    wait_for 60 "the node to come up" sh -c "sinfo -h -N -o %T | grep -qE '^(idle|mixed|allocated)'"
    log "cluster '$CLUSTER' up: $(sinfo -h -N -o '%N %c CPUs %m MB %T')"
    log "use it with:  source $DIR/env.sh"
}

# Is process $1 a `slurm-local.sh start` (by its PID file in this $DIR: the start of this cluster)?
is_start() {
    local a script=0 start=0
    while IFS= read -r -d '' a; do
        case "$a" in */slurm-local.sh | slurm-local.sh) script=1 ;; start) start=1 ;; esac
    done 2>/dev/null <"/proc/$1/cmdline"
    [ $script = 1 ] && [ $start = 1 ]
}

cmd_stop() {
    local what="${STOP_WHAT:-}${STOP_WHAT:+ }" d pid
    # an unfinished `start` of this $DIR first, so that it starts nothing more
    pid="$(cat "$DIR/run/start.pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && [ "$pid" != $$ ] && is_start "$pid"; then
        kill_wait "$pid" "${what}slurm-local.sh start"
    fi
    [ "$pid" = $$ ] || rm -f "$DIR/run/start.pid"
    # reverse start order; only processes whose PID files this script's daemons wrote (and that are ours)
    for d in slurmd slurmctld slurmdbd mariadb munged; do
        if alive "$DIR/run/$d.pid"; then
            kill_wait "$(cat "$DIR/run/$d.pid")" "$what$d"
        fi
        rm -f "$DIR/run/$d.pid"
    done
    # this $DIR's daemons without a PID file (started by a `start` killed before they wrote it, or
    # daemonizing while it was stopped): a few rounds, until none is left
    for _ in 1 2 3 4 5; do
        pid="$(cluster_pids)"
        [ -n "$pid" ] || return 0
        for d in $pid; do kill_wait "$d" "$what$(cat "/proc/$d/comm" 2>/dev/null || echo process)"; done
        sleep 0.2
    done
    [ -z "$(cluster_pids)" ] || die "could not stop: $(cluster_pids | tr '\n' ' ')"
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
env) cat "$DIR/env.sh" ;;
status)
    SLURM_CONF="$DIR/etc/slurm.conf" sinfo
    ;;
purge)
    cmd_stop
    rm -rf "$DIR"
    ;;
*)
    echo "usage: $0 install|start|stop|env|status|purge" >&2
    exit 2
    ;;
esac
