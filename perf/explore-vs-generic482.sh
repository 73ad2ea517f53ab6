#!/usr/bin/env bash
# `fastlog explore --check fs` against what fstests' generic/482 does, on the same ext4 log, per state.
#
# For each filesystem size: capture mkfs, FILL MiB of 4 MiB files written and fsync'd one by one, then a
# write/fsync/rename/delete workload through FastLog's FUSE frontend,
# then time
#   explore : fastlog explore --check fs --after-mark mkfs (durable image + overlay per state, no replay), and
#   g482    : for each FLUSH entry after the mkfs mark (a FUSE/loop log has no FUA entries; with FUA entries, each FUA),
#             as generic/482: a freshly zeroed image, `fastlog replay --limit N` from entry 0, mount, umount,
#             e2fsck -fn.
# and prints a table: states, seconds, ms per state, and how many times faster explore is per state.
#
# Usage: sudo perf/explore-vs-generic482.sh [SIZE_MIB[:FILL_MIB]...]   (default: 64 256:200, i.e. a 64 MiB ext4 with
#        the small workload only, and a 256 MiB ext4 holding ~200 MiB of data, whose log generic/482 replays per state)
# Env:   FASTLOG (default bin/fastlog), WORK (default /var/tmp/fastlog-perf-482), ROUNDS (workload rounds, default 6),
#        JOBS (explore --jobs values, default "1 2"), BUDGET (explore --budget, default 2000), MAX_482 (generic/482
#        states per size at most, spread evenly over the log, default 0 = all)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
fastlog=${FASTLOG:-$here/bin/fastlog}
work=${WORK:-/var/tmp/fastlog-perf-482}
rounds=${ROUNDS:-6}
jobs_list=${JOBS:-1 2}
max_482=${MAX_482:-0}
budget=${BUDGET:-2000}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(64 256:200)

[ "$(id -u)" -eq 0 ] || { echo "needs root (FUSE, loop devices, mount)" >&2; exit 2; }
[ -x "$fastlog" ] || { echo "$fastlog: not built (bash scripts/setup, or set FASTLOG)" >&2; exit 2; }
for tool in mkfs.ext4 e2fsck losetup python3; do
    command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 2; }
done
mkdir -p "$work/mnt"

capture_pid= loop=
cleanup() {
    mountpoint -q "$work/mnt" && umount "$work/mnt" || true
    [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null || true
    [ -n "$capture_pid" ] && kill -TERM "$capture_pid" 2>/dev/null && wait "$capture_pid" 2>/dev/null || true
    rm -rf "$work"/*.img "$work"/explore.* "$work"/*.log "$work"/*.flidx
}
trap cleanup EXIT

# Captures mkfs (then the mark 'mkfs'), $3 MiB of fsync'd 4 MiB files and ROUNDS rounds of write + fsync + rename
# (+ delete) on an ext4 of $1 MiB.
capture_workload() {
    local size_mib=$1 log=$2 fill_mib=$3 backing=$work/backing.img dev
    rm -f "$backing" "$log" "$work/capture.out"
    truncate -s "${size_mib}M" "$backing"
    "$fastlog" capture --backing "$backing" --log "$log" --frontend fuse >"$work/capture.out" 2>"$work/capture.err" &
    capture_pid=$!
    for _ in $(seq 100); do [ -s "$work/capture.out" ] && break; sleep 0.1; done
    dev=$(head -n1 "$work/capture.out")
    [ -b "$dev" ] || { echo "capture did not start: $(cat "$work/capture.err")" >&2; exit 1; }
    mkfs.ext4 -q -F "$dev"
    "$fastlog" mark "$dev" mkfs
    mount "$dev" "$work/mnt"
    local mnt=$work/mnt i
    for i in $(seq 1 $((fill_mib / 4))); do
        head -c 4M /dev/urandom >"$mnt/fill.$i"
        sync "$mnt/fill.$i"
    done
    for i in $(seq 1 "$rounds"); do
        head -c $((i * 12288)) /dev/urandom >"$mnt/tmp.$i"
        sync "$mnt/tmp.$i"
        mv "$mnt/tmp.$i" "$mnt/file.$i"
        [ "$i" -le 2 ] || rm "$mnt/file.$((i - 2))"
        mkdir -p "$mnt/d$((i % 3))" && echo "$i" >"$mnt/d$((i % 3))/n" && sync "$mnt/d$((i % 3))/n"
        "$fastlog" mark "$dev" "round-$i"
    done
    umount "$mnt"
    kill -TERM "$capture_pid"
    wait "$capture_pid"
    capture_pid=
    rm -f "$backing"
}

# The entries generic/482 would stop at: each FUA after the mkfs mark, or each FLUSH when the log has no FUA.
g482_points() {
    "$fastlog" inspect --entries "$1" | awk '
        $5 == "MARK" && $6 == "mkfs" { after = $1 }
        after != "" && $1 ~ /^[0-9]+$/ && $1 > after && $5 ~ /FUA/   { fua[++nf] = $1 }
        after != "" && $1 ~ /^[0-9]+$/ && $1 > after && $5 ~ /FLUSH/ { flush[++nl] = $1 }
        END { if (nf > 0) for (i = 1; i <= nf; i++) print fua[i]; else for (i = 1; i <= nl; i++) print flush[i] }'
}

now() { date +%s.%N; }

printf '%-7s %-9s %-5s %-7s %-8s %-9s %-10s %-10s\n' fs_MiB tool jobs states checked seconds ms/state vs_g482
for spec in "${sizes[@]}"; do
    size_mib=${spec%%:*}
    fill_mib=0
    [ "$spec" = "$size_mib" ] || fill_mib=${spec#*:}
    log=$work/ext4-$size_mib.log
    capture_workload "$size_mib" "$log" "$fill_mib"
    echo "# ${size_mib} MiB ext4, ${fill_mib} MiB filled: log $(du -m "$log" | cut -f1) MiB, $("$fastlog" inspect "$log" | awk '/^entries indexed/ {print $3}') entries"

    # generic/482's loop, one state at a time.
    mapfile -t points < <(g482_points "$log")
    if [ "$max_482" -gt 0 ] && [ ${#points[@]} -gt "$max_482" ]; then
        mapfile -t points < <(printf '%s\n' "${points[@]}" | awk -v n=${#points[@]} -v m="$max_482" \
            '{ p[NR] = $0 } END { for (i = 0; i < m; i++) print p[1 + int(i * (n - 1) / (m - 1))] }')
    fi
    img=$work/g482.img
    g482_failed=0
    start=$(now)
    for entry in "${points[@]}"; do
        rm -f "$img"
        truncate -s "${size_mib}M" "$img"
        "$fastlog" replay --log "$log" --replay "$img" --limit $((entry + 1)) >/dev/null
        loop=$(losetup -f --show "$img")
        if mount "$loop" "$work/mnt" 2>/dev/null; then umount "$work/mnt"; else g482_failed=$((g482_failed + 1)); fi
        losetup -d "$loop"
        loop=
        e2fsck -fn "$img" >/dev/null 2>&1 || g482_failed=$((g482_failed + 1))
    done
    g482_seconds=$(echo "$(now) - $start" | bc)
    g482_ms=$(echo "scale=1; 1000 * $g482_seconds / ${#points[@]}" | bc)
    rm -f "$img"
    printf '%-7s %-9s %-5s %-7s %-8s %-9.2f %-10s %-10s\n' "$size_mib" g482 1 ${#points[@]} ${#points[@]} "$g482_seconds" "$g482_ms" 1.0
    [ "$g482_failed" -eq 0 ] || echo "  (generic/482 loop: $g482_failed failed mounts/fscks)"

    for jobs in $jobs_list; do
        summary=$work/explore.$size_mib.$jobs.json
        rc=0
        "$fastlog" explore --log "$log" --check fs --after-mark mkfs --jobs "$jobs" --budget "$budget" --minimize-budget 0 \
            --work-dir "$work" --json >"$summary" 2>/dev/null || rc=$?
        [ "$rc" -le 1 ] || { echo "explore failed (exit $rc)" >&2; exit 1; }
        python3 - "$summary" "$size_mib" "$jobs" "$g482_ms" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
s = json.loads(text[text.index("{"):text.rindex("}") + 1])
ms = 1000 * s["elapsed_seconds"] / s["done"]
print(f'{sys.argv[2]:<7} {"explore":<9} {sys.argv[3]:<5} {s["done"]:<7} {s["checked"]:<8} {s["elapsed_seconds"]:<9.2f} {ms:<10.1f} {float(sys.argv[4]) / ms:<.1f}x'
      + (f'   ({s["failed"]} failed)' if s["failed"] else ""))
EOF
    done
done
