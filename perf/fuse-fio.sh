#!/usr/bin/env bash
# fio 4 KiB random writes (fsync=1 and fsync=32) on three devices over files in one directory (one disk), in one run:
#   loop      plain loop device (direct I/O) on a file
#   no-log    FastLog FUSE frontend, --no-log (FUSE file + loop, direct I/O)
#   logging   FastLog FUSE frontend logging to a file in the same directory (FLUSH waits for the log to be durable)
#   written   the same with --log-durability written (FLUSH waits for the log to be written, not synced)
#   ordered   the same with --log-durability ordered (FLUSH waits for nothing in the log, as dm-log-writes)
# The three are interleaved for ROUNDS rounds and the median of each is reported: on a shared machine a single
# run says little.
# Usage: perf/fuse-fio.sh [DIR] [RUNTIME_S] [JOBS] [ROUNDS]   (root; FASTLOG=path/to/fastlog skips the build)
# LOG_DIR=/dev/shm puts the log elsewhere (the backing stays in DIR): with the log in memory, what remains of the
# logging cost is FastLog's own work, not the log's disk I/O.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/var/tmp}; runtime=${2:-10}; jobs=${3:-4}; rounds=${4:-3}
size=$((1024 << 20))
if [[ -z "${FASTLOG:-}" ]]; then
    dotnet publish src/FastLog.Cli -c Release -r linux-x64 -o "$dir/fastlog-perf-bin" --nologo -v quiet -p:DebugType=none >/dev/null
    FASTLOG="$dir/fastlog-perf-bin/fastlog"
fi
work=$(mktemp -d "$dir/fastlog-fuse-fio.XXXXXX")
logs=$(mktemp -d "${LOG_DIR:-$work}/fastlog-fuse-fio-log.XXXXXX")
capture_pid=; loopdev=
cleanup() {
    [[ -n "$capture_pid" ]] && kill -TERM "$capture_pid" 2>/dev/null && wait "$capture_pid" 2>/dev/null || true
    [[ -n "$loopdev" ]] && losetup -d "$loopdev" 2>/dev/null || true
    rm -rf "$logs" "$work"
}
trap cleanup EXIT

fio_run() { # DEVICE FSYNC → IOPS
    fio --name=rw --filename="$1" --rw=randwrite --bs=4k --direct=1 --ioengine=psync --fsync="$2" \
        --numjobs="$jobs" --size=$((size / jobs)) --offset_increment=$((size / jobs)) \
        --time_based --runtime="$runtime" --group_reporting --output-format=terse --terse-version=3 \
        | awk -F';' '{ print int($49) }'
}

start_capture() { # ARGS... → sets capture_pid and dev
    : >"$work/out"
    "$FASTLOG" capture "$@" >"$work/out" 2>"$work/err" &
    capture_pid=$!
    for _ in $(seq 1 100); do [[ -s "$work/out" ]] && break; sleep 0.1; done
    dev=$(head -n 1 "$work/out")
    [[ "$dev" == /dev/* ]] || { cat "$work/err" >&2; exit 1; }
}

stop_capture() {
    kill -TERM "$capture_pid"; wait "$capture_pid" || true; capture_pid=
}

declare -A iops
# One backing file, written once in full so that no configuration pays for first-write extent conversion.
dd if=/dev/zero of="$work/backing" bs=1M count=$((size >> 20)) oflag=direct status=none
for round in $(seq 1 "$rounds"); do
for config in loop no-log logging written ordered; do
    case $config in
        loop) dev=$(losetup --find --show --direct-io=on "$work/backing"); loopdev=$dev ;;
        no-log) start_capture --backing "$work/backing" --no-log --frontend fuse ;;
        logging) start_capture --backing "$work/backing" --log "$logs/log" --frontend fuse ;;
        written) start_capture --backing "$work/backing" --log "$logs/log" --frontend fuse --log-durability written ;;
        ordered) start_capture --backing "$work/backing" --log "$logs/log" --frontend fuse --log-durability ordered ;;
    esac
    for fsync in 1 32; do
        iops[$config,$fsync]+="$(fio_run "$dev" "$fsync") "
    done
    case $config in
        loop) losetup -d "$dev"; loopdev= ;;
        *) stop_capture ;;
    esac
done
done
echo "raw IOPS per round:" >&2
for key in "${!iops[@]}"; do echo "  $key: ${iops[$key]}" >&2; done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)) }'; }
for key in "${!iops[@]}"; do iops[$key]=$(median "${iops[$key]}"); done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo "| fio 4 KiB randwrite, $jobs jobs, ${runtime}s, median of $rounds | plain loop | FUSE --no-log | FUSE logging (durable) | FUSE logging (written) | FUSE logging (ordered) | no-log / loop | durable / no-log | written / no-log | ordered / no-log |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for fsync in 1 32; do
    echo "| fsync=$fsync (IOPS) | ${iops[loop,$fsync]} | ${iops[no-log,$fsync]} | ${iops[logging,$fsync]} | ${iops[written,$fsync]} | ${iops[ordered,$fsync]} |" \
         "$(ratio "${iops[no-log,$fsync]}" "${iops[loop,$fsync]}") | $(ratio "${iops[logging,$fsync]}" "${iops[no-log,$fsync]}") |" \
         "$(ratio "${iops[written,$fsync]}" "${iops[no-log,$fsync]}") | $(ratio "${iops[ordered,$fsync]}" "${iops[no-log,$fsync]}") |"
done
