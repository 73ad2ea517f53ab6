#!/usr/bin/env bash
# fio 4 KiB random writes in ONE guest boot (Debian 6.12 under qemu TCG) against, on the same disks:
#   raw        the virtio disk itself
#   no-log     FastLog's ublk frontend over that disk, no logging (fastlog capture --frontend ublk --no-log)
#   logging    the same with a dm-log-writes log on a second virtio disk (fastlog capture --frontend ublk --log);
#              a FLUSH waits for the log to be durable (the default)
#   written    the same with --log-durability written (a FLUSH waits for the log to be written, not synced)
#   ordered    the same with --log-durability ordered (a FLUSH waits for nothing in the log, as dm-log-writes)
#   dm-lw      the kernel's dm-log-writes over the same two disks
# for fsync=1 and fsync=32 at QD1 and QD32. Prints a markdown table of IOPS.
#
#   perf/ublk-guest-fio.sh [SECONDS_PER_RUN]        (default 10; needs tests/vm/setup.sh once, root)
# FASTLOG_AOT_BIN=path skips publishing the NativeAOT binary (JIT start-up under TCG takes seconds).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runtime="${1:-10}"
mkdir -p "$repo/out"
work="$(mktemp -d "$repo/out/ublk-perf.XXXXXX")" # under the repo: the guest sees the host root, but its /tmp is its own
trap 'rm -rf "$work"' EXIT
bin="${FASTLOG_AOT_BIN:-}"
if [[ -z "$bin" ]]; then
  dotnet publish "$repo/src/FastLog.Cli" -c Release -r linux-x64 -o "$repo/out/guest-aot" -nologo >/dev/null
  bin="$repo/out/guest-aot/fastlog"
fi
fallocate -l 1G "$work/data.img" # allocated up front: no host-side extent allocation inside the timed runs
fallocate -l 4G "$work/log.img"
cat > "$work/guest.sh" <<GUEST
set -euo pipefail
source "$repo/tests/FastLog.Tests/Ublk/guest/ublk-lib.sh"
FASTLOG="$bin"
run() { # target dev fsync qd
  local iops
  iops=\$(fio --name=p --filename=\$2 --ioengine=io_uring --direct=1 --rw=randwrite --bs=4k --size=512M \
    --iodepth=\$4 --fsync=\$3 --time_based --runtime=$runtime --randrepeat=0 --output-format=terse --terse-version=3 \
    | awk -F';' '{print \$49}')
  echo "\$1 fsync=\$3 qd=\$4 \$iops"
}
all() { for f in 1 32; do for q in 1 32; do run "\$1" "\$2" \$f \$q; done; done; }
all raw /dev/vda
ublk_capture /dev/vda 512 2 32 --no-log; all no-log \$DEV; ublk_stop
blkdiscard /dev/vdb
ublk_capture /dev/vda 512 2 32 --log /dev/vdb; all logging \$DEV; ublk_stop
blkdiscard /dev/vdb
ublk_capture /dev/vda 512 2 32 --log /dev/vdb --log-durability written; all written \$DEV; ublk_stop
blkdiscard /dev/vdb
ublk_capture /dev/vda 512 2 32 --log /dev/vdb --log-durability ordered; all ordered \$DEV; ublk_stop
blkdiscard /dev/vdb
dmsetup create lw --table "0 \$(blockdev --getsz /dev/vda) log-writes /dev/vda /dev/vdb"; dmsetup mknodes
all dm-lw /dev/mapper/lw
dmsetup remove lw
GUEST
"$repo/tests/vm/run-guest.sh" --disk "$work/data.img" --disk "$work/log.img" --timeout 3000 -- bash "$work/guest.sh" \
  > "$work/results.txt"
echo "| target | fsync=1 QD1 | fsync=1 QD32 | fsync=32 QD1 | fsync=32 QD32 |"
echo "|---|---:|---:|---:|---:|"
for t in raw no-log logging written ordered dm-lw; do
  awk -v t="$t" '$1 == t { v[$2 " " $3] = $4 }
    END { printf "| %s | %s | %s | %s | %s |\n", t, v["fsync=1 qd=1"], v["fsync=1 qd=32"], v["fsync=32 qd=1"], v["fsync=32 qd=32"] }' \
    "$work/results.txt"
done
