#!/bin/sh
# A real systemd (the host's /lib/systemd/systemd) as PID 1 of its own PID, mount, cgroup,
# network, IPC and UTS namespaces, for trying the systemd cgroup driver on a machine whose PID 1
# is not systemd (this VM, CI). Contained, because systemd on the host's own filesystem is not:
# a transient service pulls in sysinit.target, whose systemd-tmpfiles-setup empties the host's
# /tmp (tmp.conf's `D /tmp`) and more. So the manager gets
#   - a throwaway root: an overlay of / with a tmpfs upper (fresh /run and /tmp), pivoted into;
#   - fresh proc and cgroup mounts made inside its cgroup namespace, rooted at a cgroup of its own
#     (`berth-sd-NAME` in every hierarchy), so its slices and scopes stay below that cgroup;
#   - a unit-less default target that wants only dbus (dbus.socket and dbus.service without their
#     default dependencies), so nothing of sysinit.target runs;
#   - read-write binds of the directories given (a test's data root: overlay2 cannot use an
#     overlay upper), which are live; the rest of / is read as it was when the manager started.
# Usage (root):
#   scripts/systemd-sandbox.sh start NAME [DIR...]   boot it (waits until it is running)
#   scripts/systemd-sandbox.sh exec NAME CMD [ARG...] run CMD in its namespaces and cgroup
#   scripts/systemd-sandbox.sh stop NAME              kill it and remove its cgroups
# e.g. `exec NAME runc --systemd-cgroup run ...` with cgroupsPath `system.slice:berth:ID` gets a
# transient berth-ID.scope over D-Bus with the spec's limits, as under a host systemd.
set -eu

cmd=${1:?usage: $0 start|exec|stop NAME ...}
name=${2:?usage: $0 start|exec|stop NAME ...}
shift 2
self=$(readlink -f "$0")
cg=berth-sd-$name
mnt=/run/$cg
pidfile=/run/$cg.pid

# The cgroup mount points of this host (v1 hierarchies and/or the v2 one).
hierarchies() { awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts; }

join_cgroup() {
    for h in $(hierarchies); do echo "$1" >"$h/$cg/cgroup.procs"; done
}

case $cmd in
start)
    for h in $(hierarchies); do
        mkdir -p "$h/$cg"
        if [ -f "$h/cpuset.cpus" ]; then
            cat "$h/cpuset.cpus" >"$h/$cg/cpuset.cpus"
            cat "$h/cpuset.mems" >"$h/$cg/cpuset.mems"
        fi
    done
    mkdir -p "$mnt"
    (
        join_cgroup "$(sh -c 'echo $PPID')"
        exec unshare --propagation slave --pid --fork --mount --cgroup --net --ipc --uts \
            env BERTH_SD_MNT="$mnt" "$self" inner "$name" "$@"
    ) >"$mnt.log" 2>&1 &
    # The manager is the child of unshare.
    i=0
    while :; do
        pid=$(pgrep -P $! -x systemd 2>/dev/null || true)
        [ -n "$pid" ] && state=$(nsenter -t "$pid" -a systemctl is-system-running 2>/dev/null || true)
        case ${state:-} in running | degraded) break ;; esac
        i=$((i + 1))
        [ $i -lt 120 ] || { echo "systemd did not come up; see $mnt.log" >&2; exit 1; }
        sleep 0.5
    done
    echo "$pid" >"$pidfile"
    # Let the manager (re)connect to the bus it started, so D-Bus clients reach it.
    nsenter -t "$pid" -a systemctl daemon-reexec
    echo "$pid"
    ;;
inner)
    # PID 1 of the new namespaces: build the root and become systemd.
    mount --make-rslave /
    mount -t tmpfs sd "$BERTH_SD_MNT"
    r=$BERTH_SD_MNT/root
    mkdir "$BERTH_SD_MNT/upper" "$BERTH_SD_MNT/work" "$r"
    mount -t overlay overlay \
        -o "lowerdir=/,upperdir=$BERTH_SD_MNT/upper,workdir=$BERTH_SD_MNT/work" "$r"
    mount -t proc proc "$r/proc"
    mount --rbind /sys "$r/sys"
    mount --rbind /dev "$r/dev"
    umount -l "$r/sys/fs/cgroup"
    if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
        mount -t cgroup2 cgroup2 "$r/sys/fs/cgroup"
    else
        mount -t tmpfs -o mode=755 cgroup "$r/sys/fs/cgroup"
        awk '$3 == "cgroup" || $3 == "cgroup2" { print $2, $3, $4 }' /proc/self/mounts |
            while read -r target fstype opts; do
                mkdir -p "$r$target"
                # The hierarchy's own options (controllers, name=), not the mount flags.
                o=$(echo "$opts" | tr , '\n' | grep -Ev '^(rw|ro|relatime|nosuid|nodev|noexec)$' |
                    paste -sd, -)
                mount -t "$fstype" ${o:+-o "$o"} "$fstype" "$r$target"
            done
    fi
    mount -t tmpfs -o mode=755 run "$r/run"
    mount -t tmpfs -o mode=1777 tmp "$r/tmp"
    for d in "$@"; do
        mkdir -p "$r$d"
        mount --rbind "$d" "$r$d"
    done
    u=$r/etc/systemd/system
    mount -t tmpfs -o mode=755 units "$u"
    printf '[Unit]\nDescription=berth systemd sandbox\nWants=dbus.socket dbus.service\n' \
        >"$u/berth-sandbox.target"
    for unit in dbus.socket dbus.service; do
        mkdir -p "$u/$unit.d"
        printf '[Unit]\nDefaultDependencies=no\n' >"$u/$unit.d/berth-sandbox.conf"
    done
    mkdir -p "$r/oldroot"
    cd "$r"
    pivot_root . oldroot
    umount -l /oldroot
    rmdir /oldroot
    export container=berth-sandbox
    exec /lib/systemd/systemd --system --unit=berth-sandbox.target --log-target=console
    ;;
exec)
    pid=$(cat "$pidfile")
    join_cgroup $$
    exec nsenter -t "$pid" -a "$@"
    ;;
stop)
    if [ -f "$pidfile" ]; then
        kill -9 "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    fi
    sleep 1
    for h in $(hierarchies); do
        [ -d "$h/$cg" ] && find "$h/$cg" -depth -type d -exec rmdir {} \;
    done
    rm -f "$mnt.log"
    rmdir "$mnt" 2>/dev/null || true
    ;;
*)
    echo "usage: $0 start|exec|stop NAME ..." >&2
    exit 2
    ;;
esac
