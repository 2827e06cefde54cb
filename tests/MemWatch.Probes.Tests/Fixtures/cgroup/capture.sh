#!/usr/bin/env bash
# Recaptures the real cgroup fixtures on a hybrid host (v1 memory + cgroup2 at /sys/fs/cgroup/unified). Run as root.
# Usage: capture.sh /path/to/cgroup_alloc   (tests/workloads/cgroup_alloc.c built with gcc)
set -euo pipefail
ALLOC=$1
F=$(cd "$(dirname "$0")" && pwd)
M=/sys/fs/cgroup/memory/memwatch-fixture
U=/sys/fs/cgroup/unified/memwatch-fixture
rm -rf "$F/hybrid" "$F/v1-after-oom"
mkdir -p "$F/hybrid/proc/self" "$F/hybrid/root/sys/fs/cgroup/memory" "$F/hybrid/root/sys/fs/cgroup/unified" "$F/v1-after-oom"
mkdir -p "$M/app" "$U"
cleanup() { kill -9 "${PID:-0}" 2>/dev/null || true; sleep 0.3; rmdir "$M/app" "$M" "$U" 2>/dev/null || true; }
trap cleanup EXIT
echo $((256 * 1024 * 1024)) > "$M/memory.limit_in_bytes"
coproc W { exec "$ALLOC"; }
read -r ready <&"${W[0]}"
PID=${ready#READY pid=}
echo "$PID" > "$M/app/cgroup.procs"
echo "$PID" > "$U/cgroup.procs"
echo "alloc 64" >&"${W[1]}"; read -r ans <&"${W[0]}"; echo "$ans"
cat /proc/self/cgroup > "$F/hybrid/proc/self/cgroup"
cat /proc/self/mountinfo > "$F/hybrid/proc/self/mountinfo"
mkdir -p "$F/hybrid/proc/$PID"
cat "/proc/$PID/cgroup" > "$F/hybrid/proc/$PID/cgroup"
grep -E '^(VmRSS|RssAnon)' "/proc/$PID/status" > "$F/hybrid/proc/$PID/status-excerpt"
echo "$PID" > "$F/hybrid/target-pid"
for d in "" /app; do
  mkdir -p "$F/hybrid/root$M$d"
  for f in memory.limit_in_bytes memory.usage_in_bytes memory.max_usage_in_bytes memory.memsw.limit_in_bytes \
           memory.memsw.usage_in_bytes memory.stat memory.oom_control memory.failcnt cgroup.procs; do
    cat "$M$d/$f" > "$F/hybrid/root$M$d/$f"
  done
done
for f in memory.limit_in_bytes memory.usage_in_bytes memory.stat memory.oom_control; do
  cat "/sys/fs/cgroup/memory/$f" > "$F/hybrid/root/sys/fs/cgroup/memory/$f"
done
cat /sys/fs/cgroup/unified/cgroup.controllers > "$F/hybrid/root/sys/fs/cgroup/unified/cgroup.controllers"
mkdir -p "$F/hybrid/root$U"
for f in memory.pressure cgroup.procs cgroup.controllers; do cat "$U/$f" > "$F/hybrid/root$U/$f"; done
for r in memory cpu io; do cat "/proc/pressure/$r" > "$F/proc-pressure-$r"; done
# Exceed the 256 MiB limit of the parent: the kernel OOM-kills the process inside the cgroup.
echo "alloc 400" >&"${W[1]}"
wait "$W_PID" || echo "workload exit status $?"
sleep 0.3
for f in memory.limit_in_bytes memory.usage_in_bytes memory.max_usage_in_bytes memory.stat memory.oom_control memory.failcnt cgroup.procs; do
  cat "$M/app/$f" > "$F/v1-after-oom/$f"
done
cat "$M/memory.oom_control" > "$F/v1-after-oom/parent.memory.oom_control"
