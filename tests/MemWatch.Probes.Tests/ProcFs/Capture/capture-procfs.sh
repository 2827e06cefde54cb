#!/usr/bin/env bash
# Captures the /proc fixtures of the ProcFs readers into Fixtures/proc/<pid>/ and writes, next to each
# capture, expected.procfs.txt: values extracted with awk/sed/printf from the captured files (an
# independent reading the parser tests compare with). Run as root on the machine whose kernel the
# fixtures describe; it starts its own subject processes and kills them at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../../Fixtures" && pwd)/proc
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$out"
index="$out/procfs-fixtures.txt"
: > "$index"
page=$(getconf PAGESIZE)
files=(status stat statm comm cmdline oom_score oom_score_adj environ)
baseenv=(PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8)

gcc -O1 -Wall -pthread -o "$work/procfs-target" "$here/procfs-target.c"

# start NAME CMD...: starts CMD in the background and waits for its "READY <pid> <zombie-pid>" line,
# leaving the two pids in $ready_pid and $ready_zombie.
start() {
    local name=$1; shift
    "$@" > "$work/$name.out" 2>&1 < /dev/null &
    pids+=($!)
    for _ in $(seq 1 300); do
        if grep -q '^READY' "$work/$name.out"; then
            read -r _ ready_pid ready_zombie < <(grep -m1 '^READY' "$work/$name.out"); return
        fi
        sleep 0.1
    done
    echo "no READY from $name" >&2; exit 1
}

statusval() { awk -v k="$1:" '$1 == k { print $2; f = 1 } END { if (!f) print "none" }' "$2"; }
kbbytes() { awk -v k="$1:" '$1 == k && $3 == "kB" { printf "%.0f\n", $2 * 1024; f = 1 } END { if (!f) print "none" }' "$2"; }
envval() { local v; v=$(tr '\0' '\n' < "$2" | grep -m1 "^$1=" | cut -d= -f2-) && echo "$v" || echo none; }

# snapshot DIR PID: copies the files; retries until status and statm agree (the process is idle, so a
# retry is only needed if the snapshot straddled a change). stat's rss is left out of the check: since
# Linux 6.2 it reads the per-CPU RSS counters without summing them, so it may lag statm and status.
snapshot() {
    local d=$1 pid=$2
    for _ in $(seq 1 20); do
        for f in "${files[@]}"; do
            # environ of a task without an mm (kernel thread, zombie) fails with ESRCH on 6.18: no file captured.
            cat "/proc/$pid/$f" > "$d/$f" 2>/dev/null || { [ "$f" = environ ] && rm "$d/$f"; }
        done
        local rss_kb resident
        rss_kb=$(statusval VmRSS "$d/status")
        resident=$(awk '{ print $2 }' "$d/statm")
        if [ "$rss_kb" = none ] || [ $((resident * page / 1024)) = "$rss_kb" ]; then return; fi
        sleep 0.2
    done
    echo "pid $pid never gave a consistent snapshot" >&2; exit 1
}

capture() {
    local name=$1 pid=$2 d="$out/$2"
    rm -rf "$d"; mkdir -p "$d"
    snapshot "$d" "$pid"
    echo "$name $pid" >> "$index"
    {
        echo "status.Name=$(awk -F'\t' '$1 == "Name:" { print $2 }' "$d/status")"
        echo "status.State=$(statusval State "$d/status")"
        for k in Tgid PPid Threads; do echo "status.$k=$(statusval $k "$d/status")"; done
        awk -F'\t' '$1 == "Uid:" { print "status.Uid.real=" $2; print "status.Uid.effective=" $3 }
                    $1 == "Gid:" { print "status.Gid.real=" $2; print "status.Gid.effective=" $3 }
                    $1 == "NSpid:" { s = $2; for (i = 3; i <= NF; i++) s = s " " $i; print "status.NSpid=" s }' "$d/status"
        for k in VmPeak VmSize VmLck VmPin VmHWM VmRSS RssAnon RssFile RssShmem VmData VmStk VmExe VmLib VmPTE VmSwap HugetlbPages; do
            echo "status.$k.bytes=$(kbbytes $k "$d/status")"
        done
        for k in SigBlk SigIgn SigCgt; do printf 'status.%s=%u\n' $k "0x$(statusval $k "$d/status")"; done
        # stat: everything after the last ')' (sed -z lets .* span a newline inside comm).
        sed -z 's/^.*) //' "$d/stat" | awk '{ print "stat.state=" $1; print "stat.ppid=" $2; print "stat.minflt=" $8;
            print "stat.cminflt=" $9; print "stat.majflt=" $10; print "stat.cmajflt=" $11; print "stat.utime=" $12;
            print "stat.stime=" $13; print "stat.num_threads=" $18; print "stat.starttime=" $20; print "stat.vsize=" $21;
            print "stat.rss.pages=" $22 }'
        awk -v p="$page" '{ printf "statm.size.bytes=%.0f\nstatm.resident.bytes=%.0f\n", $1 * p, $2 * p;
            printf "statm.shared.bytes=%.0f\nstatm.text.bytes=%.0f\nstatm.data.bytes=%.0f\n", $3 * p, $4 * p, $6 * p }' "$d/statm"
        echo "cmdline.argc=$(tr -cd '\0' < "$d/cmdline" | wc -c)"
        echo "cmdline.display=$(tr '\0' ' ' < "$d/cmdline" | sed 's/ $//')"
        echo "oom.score=$(cat "$d/oom_score")"
        echo "oom.adj=$(cat "$d/oom_score_adj")"
        [ -f "$d/environ" ] || { echo "environ.missing=1"; return; }
        echo "environ.count=$(tr -cd '\0' < "$d/environ" | wc -c)"
        for v in PATH LANG LD_PRELOAD GLIBC_TUNABLES MALLOC_ARENA_MAX MALLOC_CONF TCMALLOC_RELEASE_RATE \
                 TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES DOTNET_gcServer DOTNET_GCgen0size; do
            echo "environ.$v=$(envval $v "$d/environ")"
        done
    } > "$d/expected.procfs.txt"
}

start glibc env -i "${baseenv[@]}" MALLOC_ARENA_MAX=4 GLIBC_TUNABLES=glibc.malloc.arena_max=4:glibc.malloc.trim_threshold=131072 \
    "$work/procfs-target" --threads 3 --zombie
glibc=$ready_pid zombie=$ready_zombie
start jemalloc env -i "${baseenv[@]}" LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=narenas:2,background_thread:true \
    "$work/procfs-target" --threads 2
jemalloc=$ready_pid
start tcmalloc env -i "${baseenv[@]}" LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4 TCMALLOC_RELEASE_RATE=5 \
    TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES=33554432 "$work/procfs-target" --threads 2
tcmalloc=$ready_pid
start paren env -i "${baseenv[@]}" "$work/procfs-target" --comm '(a)))b'; paren=$ready_pid
start spaced env -i "${baseenv[@]}" "$work/procfs-target" --comm 'x y) (z'; spaced=$ready_pid
start newline env -i "${baseenv[@]}" "$work/procfs-target" --comm $'nl\nx) R 1 2'; newline=$ready_pid

# .NET: a small console app run by the dotnet host (the app's source is written here).
mkdir -p "$work/dn"
cat > "$work/dn/procfs-dn.csproj" <<'CSPROJ'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
</Project>
CSPROJ
cat > "$work/dn/Program.cs" <<'CS'
var keep = new List<byte[]>();
for (int i = 0; i < 64; i++) keep.Add(new byte[256 * 1024]);
new Thread(() => Thread.Sleep(Timeout.Infinite)) { IsBackground = true, Name = "fixture-idle" }.Start();
Console.WriteLine($"READY {Environment.ProcessId} 0");
Console.Out.Flush();
Thread.Sleep(Timeout.Infinite);
GC.KeepAlive(keep);
CS
dotnet build -c Release -o "$work/dn/out" "$work/dn/procfs-dn.csproj" > "$work/dn/build.log" 2>&1 || { cat "$work/dn/build.log"; exit 1; }
start dotnet env -i "${baseenv[@]}" DOTNET_gcServer=0 DOTNET_GCgen0size=0x4000000 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    "$(command -v dotnet)" "$work/dn/out/procfs-dn.dll"
dotnetpid=$ready_pid
sleep 3   # let the runtime's start-up threads (tiered JIT, finalizer) settle

capture glibc "$glibc"
capture zombie "$zombie"
capture jemalloc "$jemalloc"
capture tcmalloc "$tcmalloc"
capture comm-parens "$paren"
capture comm-spaces "$spaced"
capture comm-newline "$newline"
capture dotnet "$dotnetpid"
capture kthreadd 2
kworker=$(ps -e -o pid=,comm= | awk '$2 ~ /^kworker\/[0-9]+:[0-9]+H/ { print $1; exit }')
[ -n "$kworker" ] && capture kworker-highpri "$kworker"

cat /proc/meminfo > "$out/meminfo"
awk '{ k = $1; sub(":$", "", k); v = ($3 == "kB") ? $2 * 1024 : $2; printf "meminfo.%s=%.0f\n", k, v }' "$out/meminfo" > "$out/meminfo.expected.procfs.txt"
echo "captured into $out (kernel $(uname -r)):"; cat "$index"
