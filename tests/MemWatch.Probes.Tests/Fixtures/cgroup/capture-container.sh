#!/usr/bin/env bash
# Captures container-style views of the v1 memory hierarchy on this host (run as root), for the resolver tests:
#  container-bind:   a private mount namespace where /sys/fs/cgroup/memory is a bind mount of a sub-cgroup
#                    (what Docker/Kubernetes on cgroup v1 without a cgroup namespace show: root=/kubepods/...).
#  container-cgns:   a private mount + cgroup namespace rooted at that sub-cgroup, the sub-cgroup bind-mounted over
#                    /sys/fs/cgroup/memory (paths and mount roots then read relative to the namespace: "/").
# Usage: capture-container.sh /path/to/cgroup_alloc
set -euo pipefail
ALLOC=$1
F=$(cd "$(dirname "$0")" && pwd)
C=/memwatch-kubepods/burstable/pod7c9f2e1a/ctr-3b5d
M=/sys/fs/cgroup/memory
rm -rf "$F/container-bind" "$F/container-cgns"
mkdir -p "$M$C"
cleanup() { kill -9 "${PID:-0}" 2>/dev/null || true; sleep 0.3; rmdir "$M$C" "$M/memwatch-kubepods/burstable/pod7c9f2e1a" "$M/memwatch-kubepods/burstable" "$M/memwatch-kubepods" 2>/dev/null || true; }
trap cleanup EXIT
echo $((512 * 1024 * 1024)) > "$M/memwatch-kubepods/burstable/pod7c9f2e1a/memory.limit_in_bytes"
coproc W { exec "$ALLOC"; }
read -r ready <&"${W[0]}"
PID=${ready#READY pid=}
echo "$PID" > "$M$C/cgroup.procs"
echo "alloc 32" >&"${W[1]}"; read -r ans <&"${W[0]}"; echo "$ans"
export F C M PID
# Scenario 1: bind mount of the container's cgroup over /sys/fs/cgroup/memory, cgroup namespace of the host.
unshare -m --propagation private bash -c '
  set -e
  mount --bind "$M$C" "$M"
  D="$F/container-bind"
  mkdir -p "$D/proc/self" "$D/proc/$PID" "$D/root/sys/fs/cgroup/memory"
  cat /proc/self/mountinfo > "$D/proc/self/mountinfo"
  cat /proc/self/cgroup > "$D/proc/self/cgroup"
  cat /proc/$PID/cgroup > "$D/proc/$PID/cgroup"
  for f in memory.limit_in_bytes memory.usage_in_bytes memory.max_usage_in_bytes memory.stat memory.oom_control cgroup.procs; do
    cat "$M/$f" > "$D/root/sys/fs/cgroup/memory/$f"
  done
  echo "$PID" > "$D/target-pid"
'
# Scenario 2: the reader joins the container cgroup, then unshares mount + cgroup namespaces.
bash -c '
  echo $$ > "$M$C/cgroup.procs"
  exec unshare -m -C --propagation private bash -c "
    set -e
    mount --bind \"$M$C\" \"$M\"
    D=\"$F/container-cgns\"
    mkdir -p \"\$D/proc/self\" \"\$D/proc/$PID\" \"\$D/proc/1\" \"\$D/root/sys/fs/cgroup/memory\"
    cat /proc/self/mountinfo > \"\$D/proc/self/mountinfo\"
    cat /proc/self/cgroup > \"\$D/proc/self/cgroup\"
    cat /proc/$PID/cgroup > \"\$D/proc/$PID/cgroup\"
    cat /proc/1/cgroup > \"\$D/proc/1/cgroup\"
    for f in memory.limit_in_bytes memory.usage_in_bytes memory.stat memory.oom_control cgroup.procs; do
      cat \"$M/\$f\" > \"\$D/root/sys/fs/cgroup/memory/\$f\"
    done
    echo $PID > \"\$D/target-pid\"
  "
'
