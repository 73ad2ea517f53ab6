#!/usr/bin/env bash
# A long `fastlog torture` run on ext4 through the FUSE device, sampling what it holds as it goes: the resident
# memory of torture itself and of the capture server serving the current cycle, and the disk used by its directory.
# Usage: perf/torture-soak.sh [DURATION (default 30m)] [DIR (default /var/tmp/fastlog-soak)]
# Prints one sample line a minute and a summary: cycles done, first and last samples.
set -euo pipefail
duration=${1:-30m}
dir=${2:-/var/tmp/fastlog-soak}
fastlog=${FASTLOG:-$(dirname "$0")/../bin/fastlog}
rm -rf "$dir"
mkdir -p "$dir"
out="$dir.out"
"$fastlog" torture --fs ext4 --duration "$duration" --cycle-stress 20s --keep-logs 3 --seed 1 --dir "$dir/t" > "$out" 2>&1 &
torture=$!
trap 'kill -TERM $torture 2>/dev/null || true' EXIT
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
echo "time_s torture_rss_kib capture_rss_kib disk_kib cycles"
start=$(date +%s)
while kill -0 "$torture" 2>/dev/null; do
    capture=$(pgrep -f "capture --backing $dir/t/backing.img" | head -1 || true)
    disk=$(du -sk "$dir/t" 2>/dev/null | cut -f1)
    cycles=$(grep -c '^cycle ' "$out" || true)
    echo "$(( $(date +%s) - start )) $(rss "$torture") $( [ -n "$capture" ] && rss "$capture" || echo -) ${disk:-0} $cycles"
    for _ in $(seq 60); do kill -0 "$torture" 2>/dev/null || break; sleep 1; done
done
wait "$torture" && status=0 || status=$?
trap - EXIT
echo "torture exit $status; $(grep -c '^cycle ' "$out") cycles; last: $(grep '^cycle ' "$out" | tail -1)"
tail -2 "$out"
