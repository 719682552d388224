# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/guest/sweep_slurm.sh: a one-node Slurm cluster on localhost, all of
# it (munge key and socket, configuration, state, spool, logs, pid files) in
# one temporary directory, daemons in the foreground as our children.
#
#   slurm_up DIR    start munged, slurmctld and slurmd; wait (bounded) until
#                   the node is idle.  Exports SLURM_CONF.  Returns 1 with a
#                   reason in SLURM_WHY if it cannot.
#   slurm_down      cancel the jobs still queued or running, stop the
#                   daemons (SIGTERM, then SIGKILL) and reap them; safe to
#                   call twice, and from an EXIT trap.
#
# Needs root (slurmd runs jobs as their user; the cluster's SlurmUser is the
# caller) and Debian's slurm-wlm and munge.

SLURM_PIDS=()
SLURM_WHY=

# A TCP port nobody listens on (from the kernel: bind to port 0).
slurm_free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# slurm_wait SECONDS WHAT COMMAND...: poll COMMAND until it succeeds.
slurm_wait() {
    local secs=$1 what=$2; shift 2
    local end=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$end" ]; then
            SLURM_WHY="timed out after $secs s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

slurm_up() {
    local d=$1
    local p
    for p in munged slurmctld slurmd sbatch squeue sinfo; do
        if ! command -v "$p" >/dev/null; then
            SLURM_WHY="$p is not installed (Debian packages slurm-wlm, munge)"
            return 1
        fi
    done
    if [ "$(id -u)" != 0 ]; then
        SLURM_WHY="slurmd must run as root to start jobs"
        return 1
    fi
    mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log"
    chmod 700 "$d/munge"
    # munged insists on a private key file and a private socket directory.
    dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$d/munge/munge.key"
    local sock=$d/munge/munge.socket
    munged --foreground --force --socket="$sock" --key-file="$d/munge/munge.key" \
        --pid-file="$d/munge/munged.pid" --seed-file="$d/munge/munged.seed" \
        --log-file="$d/log/munged.log" </dev/null >>"$d/log/munged.out" 2>&1 &
    SLURM_PIDS+=($!)
    slurm_wait 20 "munged's socket $sock" test -S "$sock" || return 1
    slurm_wait 20 "munge to make a credential" \
        bash -c 'munge --socket="$1" -n | unmunge --socket="$1"' _ "$sock" || return 1

    local mem
    mem=$(awk '/^MemTotal:/ { print int($2 / 1024 / 2) }' /proc/meminfo)
    export SLURM_CONF=$d/slurm.conf
    cat > "$SLURM_CONF" <<CONF
ClusterName=mtsweep
SlurmctldHost=localhost
SlurmUser=$(id -un)
SlurmdUser=root
SlurmctldPort=$(slurm_free_port)
SlurmdPort=$(slurm_free_port)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=$mem State=UNKNOWN
PartitionName=sweep Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    slurmctld -D -f "$SLURM_CONF" </dev/null >>"$d/log/slurmctld.out" 2>&1 &
    SLURM_PIDS+=($!)
    slurm_wait 30 "slurmctld to answer (log: $d/log/slurmctld.log)" scontrol ping || return 1
    slurmd -D -f "$SLURM_CONF" -N localhost </dev/null >>"$d/log/slurmd.out" 2>&1 &
    SLURM_PIDS+=($!)
    slurm_wait 60 "node localhost to be idle (log: $d/log/slurmd.log)" \
        bash -c '[ "$(sinfo -h -n localhost -o %t)" = idle ]' || return 1
}

slurm_down() {
    local p i
    # Jobs first: slurmstepd outlives slurmd, so cancel what still runs and
    # wait (bounded) until the queue is empty.
    if [ ${#SLURM_PIDS[@]} -ge 2 ] && kill -0 "${SLURM_PIDS[1]}" 2>/dev/null; then
        scancel --partition=sweep 2>/dev/null
        slurm_wait 30 "cancelled jobs to end" \
            bash -c '[ -z "$(squeue -h 2>/dev/null)" ]'
    fi
    # Newest first: slurmd, slurmctld, munged.
    for ((i = ${#SLURM_PIDS[@]} - 1; i >= 0; i--)); do
        p=${SLURM_PIDS[$i]}
        kill -TERM "$p" 2>/dev/null || continue
        local end=$((SECONDS + 10))
        while kill -0 "$p" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    SLURM_PIDS=()
}
