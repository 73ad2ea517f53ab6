#!/bin/bash
# Replay throughput against the disk's own sequential write bandwidth, on the same filesystem, in one run.
#
#   perf/replay-vs-fio.sh [DIR] [SIZE_MIB] [ROUNDS]
#
# 1. Publishes fastlog with NativeAOT (unless FASTLOG points at a binary).
# 2. Writes a SIZE_MIB (default 1024) log with FastLog's LogWriter: `fastlog generate-log` (hidden dev command),
#    128 KiB sequential writes of pseudo-random data, a FLUSH + FUA write every 256 writes.
# 3. fio: sequential 1 MiB O_DIRECT writes of the same size to a new file in DIR.
# 4. fastlog replay of the whole log onto a preallocated file in DIR (fio preallocates too), timed including
#    its final fsync; once with the log in the page cache ("warm", as right after a test run) and once after
#    evicting it with POSIX_FADV_DONTNEED ("cold": the log is read from the same disk the replay writes to).
# The runs are interleaved ROUNDS times (default 3) and the median of each is reported, because the disk is
# shared and single runs are noisy. Process start and index load are inside the replay timing.
set -euo pipefail
DIR=${1:-/var/tmp/fastlog-perf}
SIZE_MIB=${2:-1024}
ROUNDS=${3:-3}
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

fio_mibs() {
    rm -f "$FIOFILE"
    fio --name=seq --rw=write --bs=1M --size="${SIZE_MIB}M" --direct=1 --end_fsync=1 --filename="$FIOFILE" \
        --output-format=terse --terse-version=3 | awk -F';' '{print $48 / 1024}'
    rm -f "$FIOFILE"
}
median() { tr ' ' '\n' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

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
fio_all="" warm_all="" buffered_all="" cold_all=""
for ((round = 1; round <= ROUNDS; round++)); do
    fio_all+=" $(fio_mibs)"
    warm_all+=" $(replay_mibs warm)"
    buffered_all+=" $(replay_mibs warm --buffered)"
    cold_all+=" $(replay_mibs cold)"
done
fio_mibs=$(echo $fio_all | median) warm=$(echo $warm_all | median)
warm_buffered=$(echo $buffered_all | median) cold=$(echo $cold_all | median)
list() { for v in $1; do printf '%.0f ' "$v"; done; }

printf '%-44s %8s %7s  %s\n' "run (${SIZE_MIB} MiB payload, median of $ROUNDS)" "MiB/s" "x fio" "all runs"
printf '%-44s %8.0f %7.2f  %s\n' "fio seq write 1M O_DIRECT (+fsync)" "$fio_mibs" 1 "$(list "$fio_all")"
printf '%-44s %8.0f %7.2f  %s\n' "fastlog replay, log cached" "$warm" "$(echo "$warm / $fio_mibs" | bc -l)" "$(list "$warm_all")"
printf '%-44s %8.0f %7.2f  %s\n' "fastlog replay, log cached, --buffered" "$warm_buffered" "$(echo "$warm_buffered / $fio_mibs" | bc -l)" "$(list "$buffered_all")"
printf '%-44s %8.0f %7.2f  %s\n' "fastlog replay, log read from same disk" "$cold" "$(echo "$cold / $fio_mibs" | bc -l)" "$(list "$cold_all")"
