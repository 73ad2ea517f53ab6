#!/bin/bash
# Replay throughput against the disk's own sequential write bandwidth, on the same filesystem, in one run.
#
#   perf/replay-vs-fio.sh [DIR] [SIZE_MIB]
#
# 1. Publishes fastlog with NativeAOT (unless FASTLOG points at a binary).
# 2. Writes a SIZE_MIB (default 1024) log with FastLog's LogWriter: `fastlog generate-log` (hidden dev command),
#    128 KiB sequential writes of pseudo-random data, a FLUSH + FUA write every 256 writes.
# 3. fio: sequential 1 MiB O_DIRECT writes of the same size to a new file in DIR.
# 4. fastlog replay of the whole log onto a preallocated file in DIR (fio preallocates too), timed including
#    its final fsync; once with the log in the page cache ("warm", as right after a test run) and once after
#    evicting it with POSIX_FADV_DONTNEED ("cold": the log is read from the same disk the replay writes to).
set -euo pipefail
DIR=${1:-/var/tmp/fastlog-perf}
SIZE_MIB=${2:-1024}
HERE=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$DIR"
FASTLOG=${FASTLOG:-}
if [[ -z "$FASTLOG" ]]; then
    dotnet publish "$HERE/src/FastLog.Cli" -c Release -r linux-x64 -o "$DIR/bin" >/dev/null
    FASTLOG="$DIR/bin/fastlog"
fi
LOG="$DIR/replay.log" TARGET="$DIR/replay.img" FIOFILE="$DIR/fio.dat"
trap 'rm -f "$LOG" "$LOG.flidx" "$TARGET" "$FIOFILE"' EXIT

"$FASTLOG" generate-log "$LOG" --size-mib "$SIZE_MIB" --write-kib 128 >/dev/null
"$FASTLOG" replay --log "$LOG" >/dev/null # builds LOG.flidx outside the timed runs, as a second replay would find it

rm -f "$FIOFILE"
fio_kib=$(fio --name=seq --rw=write --bs=1M --size="${SIZE_MIB}M" --direct=1 --end_fsync=1 --filename="$FIOFILE" \
    --output-format=terse --terse-version=3 | awk -F';' '{print $48}')
rm -f "$FIOFILE"
fio_mibs=$(echo "$fio_kib / 1024" | bc -l)

evict() { python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED)' "$1"; }
replay_mibs() { # $1 = warm|cold, $2.. = extra options
    local mode=$1; shift
    rm -f "$TARGET"; fallocate -l "${SIZE_MIB}M" "$TARGET"; sync
    if [[ $mode == cold ]]; then evict "$LOG"; else cat "$LOG" >/dev/null; fi
    local start end
    start=$(date +%s.%N)
    "$FASTLOG" replay --log "$LOG" --replay "$TARGET" "$@"
    end=$(date +%s.%N)
    echo "$SIZE_MIB / ($end - $start)" | bc -l
}
warm=$(replay_mibs warm)
warm_buffered=$(replay_mibs warm --buffered)
cold=$(replay_mibs cold)

printf '%-44s %10s %8s\n' "run (${SIZE_MIB} MiB payload)" "MiB/s" "x fio"
printf '%-44s %10.0f %8.2f\n' "fio seq write 1M O_DIRECT (+fsync)" "$fio_mibs" 1
printf '%-44s %10.0f %8.2f\n' "fastlog replay, log cached (O_DIRECT runs)" "$warm" "$(echo "$warm / $fio_mibs" | bc -l)"
printf '%-44s %10.0f %8.2f\n' "fastlog replay, log cached, --buffered" "$warm_buffered" "$(echo "$warm_buffered / $fio_mibs" | bc -l)"
printf '%-44s %10.0f %8.2f\n' "fastlog replay, log read from same disk" "$cold" "$(echo "$cold / $fio_mibs" | bc -l)"
