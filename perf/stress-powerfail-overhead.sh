#!/usr/bin/env bash
# What arming power-fail injection costs a workload: `fastlog stress` on ext4 through `fastlog capture --frontend
# fuse`, logged, with and without --power-fail manual (a volatile write cache under the log that no cut empties),
# rounds interleaved so both see the same machine. Prints writes/s and promises (fsyncs)/s per round and medians.
# Usage: perf/stress-powerfail-overhead.sh [SECONDS per round (20)] [ROUNDS (3)] [DIR (/var/tmp/fastlog-pf-overhead)]
set -euo pipefail
seconds=${1:-20}
rounds=${2:-3}
dir=${3:-/var/tmp/fastlog-pf-overhead}
fastlog=${FASTLOG:-$(dirname "$0")/../bin/fastlog}
rm -rf "$dir"; mkdir -p "$dir/mnt"
cleanup() { umount "$dir/mnt" 2>/dev/null || true; [ -n "${cap:-}" ] && kill -TERM "$cap" 2>/dev/null || true; }
trap cleanup EXIT
one() { # MODE -> "writes/s promises/s"
    local mode=$1 extra=()
    [ "$mode" = armed ] && extra=(--power-fail manual --keep none)
    truncate -s 0 "$dir/b.img"; truncate -s 256M "$dir/b.img"; rm -f "$dir/l.log" "$dir/j"
    "$fastlog" capture --backing "$dir/b.img" --log "$dir/l.log" --frontend fuse "${extra[@]}" > "$dir/dev" 2> "$dir/cap.err" &
    cap=$!
    for _ in $(seq 100); do [ -s "$dir/dev" ] && break; sleep 0.1; done
    local dev; dev=$(cat "$dir/dev")
    mkfs.ext4 -q -F "$dev"; mount "$dev" "$dir/mnt"
    local out; out=$("$fastlog" stress --dir "$dir/mnt" --journal "$dir/j" --duration "${seconds}s" --seed 1 2>&1 | grep 'done:')
    umount "$dir/mnt"; kill -TERM "$cap"; wait "$cap" || true; cap=
    # "done: 60 writes (415/s), 15 promises (104/s), ..."
    echo "$(sed -E 's/.*writes \(([0-9]+)\/s\).*/\1/' <<<"$out") $(sed -E 's/.*promises \(([0-9]+)\/s\).*/\1/' <<<"$out")"
}
echo "round mode writes/s promises/s"
declare -a plain_w armed_w plain_p armed_p
for r in $(seq "$rounds"); do
    for mode in plain armed; do
        read -r w p <<<"$(one $mode)"
        echo "$r $mode $w $p"
        if [ $mode = plain ]; then plain_w+=("$w"); plain_p+=("$p"); else armed_w+=("$w"); armed_p+=("$p"); fi
    done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pw=$(median "${plain_w[@]}"); aw=$(median "${armed_w[@]}"); pp=$(median "${plain_p[@]}"); ap=$(median "${armed_p[@]}")
echo "median plain: $pw writes/s, $pp promises/s; armed: $aw writes/s, $ap promises/s; armed/plain: $(awk -v a="$aw" -v b="$pw" 'BEGIN{printf "%.2f", a/b}') (writes), $(awk -v a="$ap" -v b="$pp" 'BEGIN{printf "%.2f", a/b}') (promises)"
