#!/usr/bin/env bash
# What a request's trip through a userspace ublk server costs in the qemu TCG guest, against an in-kernel remap.
# One guest boot, fio 4 KiB random writes at queue depth 1 (no fsync, then fsync=1) against:
#   raw          the virtio disk itself
#   dm-linear    the kernel's dm-linear over it (an in-kernel remap and nothing else)
#   dm-lw        the kernel's dm-log-writes over it, logging to a second virtio disk
#   ublk-mem     FastLog's ublk frontend, --no-log, over a file in guest memory (tmpfs): the ublk round trip alone
#   ublk-disk    FastLog's ublk frontend, --no-log, over the virtio disk
#   ublk-log     the same, logging to the second virtio disk (the durable default)
#   mem          fio straight on that tmpfs file (what ublk-mem costs without ublk)
# Prints IOPS and the mean time per request in µs (1e6 / IOPS at QD1), and for the ublk targets the CPU time the
# server process spent per request, in user mode (FastLog's own code) and in the kernel (io_uring, ublk, backing I/O),
# from /proc/PID/stat around each fio run.
#
#   perf/ublk-guest-roundtrip.sh [SECONDS_PER_RUN]   (default 10; needs tests/vm/setup.sh once, root)
# FASTLOG_AOT_BIN=path skips publishing the NativeAOT binary.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runtime="${1:-10}"
mkdir -p "$repo/out"
work="$(mktemp -d "$repo/out/ublk-roundtrip.XXXXXX")"
trap 'rm -rf "$work"' EXIT
bin="${FASTLOG_AOT_BIN:-}"
if [[ -z "$bin" ]]; then
  dotnet publish "$repo/src/FastLog.Cli" -c Release -r linux-x64 -o "$repo/out/guest-aot" -nologo >/dev/null
  bin="$repo/out/guest-aot/fastlog"
fi
fallocate -l 1G "$work/data.img"
fallocate -l 1G "$work/log.img"
cat > "$work/guest.sh" <<GUEST
set -euo pipefail
source "$repo/tests/FastLog.Tests/Ublk/guest/ublk-lib.sh"
FASTLOG="$bin"
cpu() { if [ -n "\${SERVER:-}" ]; then awk '{print \$14, \$15}' /proc/\$SERVER/stat; else echo 0 0; fi; }
run() { # target dev fsync
  local iops before after
  before=\$(cpu)
  iops=\$(fio --name=p --filename=\$2 --ioengine=io_uring --direct=1 --rw=randwrite --bs=4k --size=256M \
    --iodepth=1 --fsync=\$3 --time_based --runtime=$runtime --randrepeat=0 --output-format=terse --terse-version=3 \
    | awk -F';' '{print \$49}')
  after=\$(cpu)
  # clock ticks of user and system time over the run -> µs per request (a write, plus its fsync when fsync=1)
  echo "\$1 fsync=\$3 \$iops \$(echo \$before \$after | awk -v n=\$((iops * $runtime)) -v hz=\$(getconf CLK_TCK) \
    '{printf "%.0f %.0f", (\$3 - \$1) * 1e6 / hz / n, (\$4 - \$2) * 1e6 / hz / n}')"
}
both() { run "\$1" "\$2" 0; run "\$1" "\$2" 1; }
both raw /dev/vda
dmsetup create lin --table "0 \$(blockdev --getsz /dev/vda) linear /dev/vda 0"; dmsetup mknodes
both dm-linear /dev/mapper/lin
dmsetup remove lin
blkdiscard /dev/vdb
dmsetup create lw --table "0 \$(blockdev --getsz /dev/vda) log-writes /dev/vda /dev/vdb"; dmsetup mknodes
both dm-lw /dev/mapper/lw
dmsetup remove lw
mkdir -p /mnt/mem && mount -t tmpfs -o size=300M tmpfs /mnt/mem
head -c 256M /dev/zero > /mnt/mem/backing
both mem /mnt/mem/backing
ublk_capture /mnt/mem/backing 512 1 32 --no-log; both ublk-mem \$DEV; ublk_stop
ublk_capture /dev/vda 512 1 32 --no-log; both ublk-disk \$DEV; ublk_stop
ublk_capture /dev/vda 512 1 32 --log /dev/vdb; both ublk-log \$DEV; ublk_stop
unset SERVER
GUEST
"$repo/tests/vm/run-guest.sh" --disk "$work/data.img" --disk "$work/log.img" --timeout 1800 -- bash "$work/guest.sh" \
  > "$work/results.txt"
echo "| target | QD1 IOPS | µs per request | server user / kernel µs | QD1 fsync=1 IOPS | µs per write + fsync | server user / kernel µs |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for t in raw dm-linear dm-lw mem ublk-mem ublk-disk ublk-log; do
  awk -v t="$t" '$1 == t { v[$2] = $3; u[$2] = $4; k[$2] = $5 }
    function cpu(f) { return t ~ /^ublk/ ? u[f] " / " k[f] : "" }
    END { printf "| %s | %d | %.0f | %s | %d | %.0f | %s |\n", t, v["fsync=0"], 1e6 / v["fsync=0"], cpu("fsync=0"),
          v["fsync=1"], 1e6 / v["fsync=1"], cpu("fsync=1") }' "$work/results.txt"
done
