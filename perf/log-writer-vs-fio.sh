#!/usr/bin/env bash
# The capture log writer's append bandwidth beside fio's sequential O_DIRECT write bandwidth, same disk, one run.
# Usage: perf/log-writer-vs-fio.sh [DIR] [SIZE_MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/var/tmp}; size=${2:-4096}
dotnet build perf/FastLog.Benchmarks -c Release --nologo -v quiet >/dev/null
bench=perf/FastLog.Benchmarks/bin/Release/net10.0/FastLog.Benchmarks
for round in 1 2; do
    rm -f "$dir/fastlog-fio.dat" "$dir/fastlog-writer.log"
    fio --name=seq --filename="$dir/fastlog-fio.dat" --rw=write --bs=1M --size=${size}M --direct=1 \
        --ioengine=psync --end_fsync=1 --output-format=terse --terse-version=3 \
        | awk -F';' '{ printf "fio seq write 1M O_DIRECT: %.0f MB/s\n", $48 * 1024 / 1e6 }'
    rm -f "$dir/fastlog-fio.dat"
    "$bench" log-writer "$dir/fastlog-writer.log" "$size" 1
    "$bench" log-writer "$dir/fastlog-writer.log" "$size" 2
    rm -f "$dir/fastlog-writer.log"
done
