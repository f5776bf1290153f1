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

# The process of a PID file, if it is still running.
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

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

cmd_stop() {
    local d pid
    # reverse start order; only processes whose PID files this script's daemons wrote
    for d in slurmd slurmctld slurmdbd mariadb munged; do
        if alive "$DIR/run/$d.pid"; then
            pid="$(cat "$DIR/run/$d.pid")"
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 40); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.25
            done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
            log "stopped $d ($pid)"
        fi
        rm -f "$DIR/run/$d.pid"
    done
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
