#!/usr/bin/env bash
# Guest side of the kernel cross-check (runs INSIDE the guest, see tests/vm/run-guest.sh).
#
#   dmlogwrites-workload.sh FS DATA_DEV LOG_DEV OUTDIR [DM_NAME [SNAP_DEV]]
#
# Puts the kernel's dm-log-writes target over DATA_DEV with LOG_DEV as log, runs mkfs (FS =
# ext4 | btrfs), marks "mkfs", mounts, then writes / fsyncs / renames / deletes / trims files
# with marks in between, unmounts, marks "umount" and removes the dm device (so the log's
# nr_entries is final and ends with "dm-log-writes-end").
# What the guest saw is recorded in OUTDIR:
#   marks.txt           one line per mark, in log order: "NAME KIND" where KIND is
#                         all   - every file is durable (sync + device flush before the mark):
#                                 NAME.files lists every regular file (sha256sum format, paths
#                                 relative to the fs root); no other file may exist.
#                         fsync - only the files in NAME.files were fsynced: they must match,
#                                 other files are unspecified.
#                         dev   - fs not mounted, device flushed: NAME.dev holds the sha256 of
#                                 the whole data device; NAME.files is empty. With SNAP_DEV (a disk
#                                 at least 2x the data disk), the device is instead copied to
#                                 SNAP_DEV at byte offset SLOT*size (slot 0 = first dev mark) and
#                                 NAME.snap holds "OFFSET LENGTH" (hashing 256 MiB in a TCG guest
#                                 costs ~7 s, a direct-I/O copy ~0.5 s; the host hashes the copy).
#   NAME.absent         (optional) paths that must NOT exist at that mark.
#   info.txt            fs, logical block size, data/log devices, dmsetup status at the end.
set -euo pipefail
fs="$1"; data="$2"; logdev="$3"; out="$4"; name="${5:-fastlog-lw}"; snap="${6:-}"; slot=0
mkdir -p "$out"; : > "$out/marks.txt"
dev="/dev/mapper/$name"
mnt="/mnt/$name"
modprobe -a dm_mod dm_log_writes "$fs"
# The log's sector size is the data device's logical block size; discard everything first
# so that the log device reads back as zeros past the last entry.
blkdiscard "$logdev" 2>/dev/null || true
dmsetup create "$name" --table "0 $(blockdev --getsz "$data") log-writes $data $logdev"
dmsetup mknodes   # no udev in the guest
[[ -b "$dev" ]] || { echo "workload: $dev is not a block device" >&2; exit 1; }
lbs="$(blockdev --getss "$dev")"

flushdev() { sync; sync "$dev"; }   # fsync on the block device = cache flush to the log
mark() {  # mark NAME KIND [FILES...]
  local m="$1" kind="$2"; shift 2
  case "$kind" in
    all)
      flushdev
      (cd "$mnt" && find . -type f -printf '%P\0' | sort -z | xargs -0 -r sha256sum) > "$out/$m.files" ;;
    fsync)
      (cd "$mnt" && sha256sum "$@") > "$out/$m.files" ;;
    dev)
      flushdev; : > "$out/$m.files" ;;
  esac
  dmsetup message "$name" 0 mark "$m"
  # the device's content is read through dm (reads pass to the data device)
  if [[ "$kind" == dev && -n "$snap" ]]; then
    local size; size="$(blockdev --getsize64 "$dev")"
    dd if="$dev" of="$snap" bs=1M seek=$((slot * size / 1048576)) iflag=direct oflag=direct conv=notrunc status=none
    echo "$((slot * size)) $size" > "$out/$m.snap"; slot=$((slot + 1))
  elif [[ "$kind" == dev ]]; then
    sha256sum < "$dev" | cut -d' ' -f1 > "$out/$m.dev"
  fi
  echo "$m $kind" >> "$out/marks.txt"
}
rnd() { head -c "$2" /dev/urandom > "$1"; }

case "$fs" in
  ext4) mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 "$dev" ;;
  btrfs) mkfs.btrfs -q -f "$dev" ;;
  *) echo "workload: unknown fs $fs" >&2; exit 2 ;;
esac
mark mkfs dev
mkdir -p "$mnt"
mount -t "$fs" "$dev" "$mnt"

# 1. a new file, fsynced: it (and its name) must survive
rnd "$mnt/f1" 1048576; mkdir "$mnt/d"
dd if=/dev/urandom of="$mnt/d/f2" bs=4096 count=64 conv=fsync status=none
sync "$mnt/f1"   # fsync (coreutils sync FILE)
mark f1-fsync fsync f1 d/f2
# 2. more files, appends, then a full sync
rnd "$mnt/f3" 300000
head -c 123457 /dev/urandom >> "$mnt/f1"
for i in $(seq 1 20); do rnd "$mnt/d/small$i" $((i * 517)); done
mark sync1 all
# 3. overwrite in the middle of a file, fsync it
dd if=/dev/urandom of="$mnt/d/f2" bs=4096 seek=10 count=5 conv=notrunc,fsync status=none
mark f2-overwrite fsync d/f2
# 4. rename (across directories) + sync
mv "$mnt/f1" "$mnt/d/f1-renamed"
mv "$mnt/d/small3" "$mnt/small3-moved"
echo f1 > "$out/rename.absent"; echo d/small3 >> "$out/rename.absent"
mark rename all
# 5. delete + sync
rm "$mnt/f3" "$mnt/d/small5"
printf 'f3\nd/small5\nf1\n' > "$out/delete.absent"
mark delete all
# 6. fstrim the freed space, write a little more, sync
fstrim "$mnt"
rnd "$mnt/after-trim" 200000
mark fstrim all
# 7. truncate + fsync
truncate -s 5000 "$mnt/d/f1-renamed"
sync "$mnt/d/f1-renamed"
mark truncate fsync d/f1-renamed
umount "$mnt"
mark umount dev
{
  echo "fs=$fs"; echo "lbs=$lbs"; echo "data=$data"; echo "log=$logdev"
  echo "data_sectors=$(blockdev --getsz "$data")"
  echo "status=$(dmsetup status "$name")"
} > "$out/info.txt"
dmsetup remove "$name"
sync
echo "workload $fs lbs=$lbs: $(wc -l < "$out/marks.txt") marks, $(grep status= "$out/info.txt")"
