#!/usr/bin/env bash
# Crash-state materialization alone: `fastlog explore --check true` (the check is /bin/sh -c true, so what is
# measured is planning, the identical-state hash, presenting each state on the FUSE+loop device and one process
# spawn) on a 1 GiB device whose epochs hold 64 writes of 4 KiB at random offsets. Prints states/s and peak RSS
# for each budget; RUNS runs per budget (median reported by the caller from the table).
#
# Usage: sudo perf/explore-materialize.sh [BUDGET...]      (default budgets: 1000 100000)
# Env:   FASTLOG (default bin/fastlog), WORK (default /var/tmp/fastlog-perf-materialize), RUNS (default 3),
#        JOBS (default 2), SIZE_MIB (payload logged; default 64 = 256 epochs of 64 writes). The generated log is
#        kept in WORK for the next run; reports are removed.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
fastlog=${FASTLOG:-$here/bin/fastlog}
work=${WORK:-/var/tmp/fastlog-perf-materialize}
runs=${RUNS:-3}
jobs=${JOBS:-2}
size_mib=${SIZE_MIB:-64}
budgets=("$@")
[ ${#budgets[@]} -gt 0 ] || budgets=(1000 100000)

[ -x "$fastlog" ] || { echo "$fastlog: not built (bash scripts/setup, or set FASTLOG)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (Debian package 'time')" >&2; exit 2; }
mkdir -p "$work"
cleanup() { rm -rf "$work"/report.*; }
trap cleanup EXIT

log=$work/epochs64.log
if [ ! -s "$log" ]; then
    "$fastlog" generate-log "$log" --size-mib "$size_mib" --write-kib 4 --flush-every 64 --device-mib 1024 >/dev/null
fi

printf '%-8s %-4s %-8s %-8s %-10s %-10s %-10s\n' budget run states checked seconds states/s peak_rss_MiB
for budget in "${budgets[@]}"; do
    for run in $(seq 1 "$runs"); do
        report=$work/report.$budget.$run
        rm -rf "$report"
        /usr/bin/time -v -o "$work/time.txt" \
            "$fastlog" explore --log "$log" --check true --jobs "$jobs" --budget "$budget" \
            --minimize-budget 0 --work-dir "$work" --report "$report" --json >"$work/summary.out" 2>/dev/null
        # The summary's own wall time and counts (JSON on stdout), the peak RSS from time -v.
        read -r done checked seconds < <(python3 -c '
import json,sys
s=json.load(open(sys.argv[1]))
print(s["done"], s["checked"], s["elapsed_seconds"])' "$work/summary.out")
        rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
        awk -v b="$budget" -v r="$run" -v d="$done" -v c="$checked" -v s="$seconds" -v k="$rss_kib" \
            'BEGIN { printf "%-8s %-4s %-8s %-8s %-10.1f %-10.1f %-10.1f\n", b, r, d, c, s, d / s, k / 1024 }'
    done
done
