#!/bin/sh
# Regenerates expected/<pid>.txt from the captured files with awk and python3 (independent of the C# parsers).
# smaps lines:   mappings N | withpath N | sum.<Key> <sum of the numbers in that key's lines> | flag.<code> <mappings with it>
# rollup lines:  rollup.<Key> <value>
# maps lines:    maps.lines N | maps.sizebytes N | maps.perm.<perms> N | maps.inodes N (sum of inodes)
cd "$(dirname "$0")"
mkdir -p expected
for d in proc/*/; do
    pid=$(basename "$d")
    out=expected/$pid.txt
    if [ -f "$d/smaps.gz" ]; then cat="gzip -dc $d/smaps.gz"; else cat="cat $d/smaps"; fi
    $cat | awk '
        /^[0-9a-f]+-[0-9a-f]+ / { n++; if ($6 != "") withpath++; next }
        /^VmFlags:/ { for (i = 2; i <= NF; i++) flags[$i]++; next }
        /^[A-Za-z_]+:/ { k = substr($1, 1, length($1) - 1); sum[k] += $2; next }
        END {
            printf "mappings %d\nwithpath %d\n", n, withpath
            for (k in sum) printf "sum.%s %.0f\n", k, sum[k]
            for (f in flags) printf "flag.%s %d\n", f, flags[f]
        }' > "$out"
    awk '/^[A-Za-z_]+:/ { printf "rollup.%s %s\n", substr($1, 1, length($1) - 1), $2 }' "$d/smaps_rollup" >> "$out"
    python3 - "$d/maps" >> "$out" <<'PY'
import collections, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
lines = [l for l in lines if l]
size = 0; inodes = 0; perms = collections.Counter()
for l in lines:
    f = l.split(None, 5)
    a, b = (int(x, 16) for x in f[0].split(b'-'))
    size += b - a; inodes += int(f[4]); perms[f[1].decode()] += 1
print('maps.lines', len(lines)); print('maps.sizebytes', size); print('maps.inodes', inodes)
for p, c in sorted(perms.items()): print('maps.perm.' + p, c)
PY
done
