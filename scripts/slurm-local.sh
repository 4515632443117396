#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the test of the README's job-array recipe and
# for trying it by hand. Debian's slurm-wlm and munge, run as root:
#
#   scripts/slurm-local.sh start DIR    # writes DIR/slurm.conf, starts munged (if none runs),
#                                       # slurmctld and slurmd; prints `export SLURM_CONF=...`
#   SLURM_CONF=DIR/slurm.conf sbatch --array=0-3 ...
#   scripts/slurm-local.sh stop DIR     # stops, by pid, every daemon it started
#
# State, spool, logs and pid files stay in DIR. `apt-get install slurm-wlm munge` first (.ci/run
# does); the package makes /etc/munge/munge.key.
set -euo pipefail
command=${1:?usage: slurm-local.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: slurm-local.sh start|stop DIR}")
node=$(hostname -s)

stop() {
    for daemon in slurmd slurmctld munged; do
        if [ -f "$dir/$daemon.pid" ]; then
            pid=$(cat "$dir/$daemon.pid")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            rm -f "$dir/$daemon.pid"
        fi
    done
}

start() {
    mkdir -p "$dir/state" "$dir/spool" "$dir/log"
    cat > "$dir/slurm.conf" <<CONF
ClusterName=local
SlurmctldHost=$node
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
MaxArraySize=1001
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$dir/slurm.conf"
    # munged: ours only if none answers already (its pid then goes in DIR to be stopped).
    if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        mkdir -p /run/munge /var/log/munge /var/lib/munge
        chown munge:munge /run/munge /var/log/munge /var/lib/munge
        su -s /bin/sh munge -c "munged --pid-file=/run/munge/munged.pid"
        cp /run/munge/munged.pid "$dir/munged.pid"
    fi
    slurmctld
    slurmd
    # Ready when the node is idle.
    for _ in $(seq 1 100); do
        if sinfo -h -o '%T' 2>/dev/null | grep -q '^idle'; then
            echo "export SLURM_CONF=$SLURM_CONF"
            return 0
        fi
        sleep 0.2
    done
    echo "slurm-local.sh: the node did not come up; see $dir/log" >&2
    stop
    return 1
}

case $command in
    start) start ;;
    stop) stop ;;
    *) echo "usage: slurm-local.sh start|stop DIR" >&2; exit 2 ;;
esac
