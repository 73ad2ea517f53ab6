# The workload that knows what it was promised (run with bash): writes the 4 KiB blocks 0..63 of DEVICE in turn with
# O_DIRECT|O_DSYNC, each block's bytes naming it and the write's sequence number ("blk I seq S"), and appends "I S" to
# JOURNAL after each write dd saw complete. Ends, with exit 0, at the first write that fails; dd's errors go to
# DD_ERRORS (default: nowhere). JournalingWriter.AssertAcknowledgedWritesPresent checks an image against JOURNAL.
# Usage: bash journaling-writer.sh DEVICE JOURNAL SCRATCH_FILE [DD_ERRORS]
dev=$1; journal=$2; blk=$3; errors=${4:-/dev/null}; s=0
while true; do
  i=$((s % 64))
  yes "blk $i seq $s" | head -c 4096 > "$blk"
  # nocreat: once a device node is gone, dd would otherwise "succeed" into a new regular file in /dev.
  dd if="$blk" of="$dev" bs=4096 seek=$i count=1 oflag=direct,dsync conv=notrunc,nocreat status=none 2>>"$errors" || exit 0
  echo "$i $s" >> "$journal"
  s=$((s+1))
done
