#!/usr/bin/env bash
# Regenerates tests/data/kernel-ext4-demo.log.zst: a small log written by the REAL kernel
# dm-log-writes target (Debian 6.12 in the qemu guest) while mkfs.ext4 and a few file
# operations ran on a 48 MiB data disk (logical block size 512), with marks in between.
# Also writes tests/data/kernel-ext4-demo.marks: what the guest saw at each mark
# (see tests/vm/guest/dmlogwrites-workload.sh for the format of the per-mark records).
#   usage: tests/vm/make-demo-log.sh        (needs tests/vm/setup.sh first; ~30 s)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/fastlog-demo.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
truncate -s 48M "$tmp/data.img"
truncate -s 64M "$tmp/log.img"
cat > "$tmp/workload.sh" <<'W'
set -euo pipefail
dev=/dev/mapper/demo; mnt=/mnt/demo; out=/out/rec
mkdir -p $out $mnt; : > $out/marks.txt
blkdiscard /dev/vdb || true
dmsetup create demo --table "0 $(blockdev --getsz /dev/vda) log-writes /dev/vda /dev/vdb"
dmsetup mknodes
mark() {  # mark NAME [FILES...]: record sha256 of FILES (relative to the fs root), then mark
  local m=$1; shift
  (cd $mnt 2>/dev/null && [[ $# -gt 0 ]] && sha256sum "$@" || true) | sed "s/^/$m /" >> $out/files.txt
  dmsetup message demo 0 mark "$m"; echo "$m" >> $out/marks.txt
}
mkfs.ext4 -q -F -L fastlog-demo -E lazy_itable_init=0,lazy_journal_init=0 $dev
sync $dev
mark mkfs
mount -t ext4 $dev $mnt
# deterministic content so the log is reproducible in size and compresses well
seq 1 20000 > $mnt/numbers.txt; sync $mnt/numbers.txt
mark numbers-fsync numbers.txt
mkdir $mnt/dir
for i in 1 2 3 4 5; do awk -v n=$((i * 500)) -v i=$i 'BEGIN { for (k = 0; k < n; k++) print "file " i " line " k }' > $mnt/dir/file$i; done
head -c 65536 /dev/urandom > $mnt/dir/random.bin
sync; sync $dev
mark sync1 numbers.txt dir/file1 dir/file2 dir/file3 dir/file4 dir/file5 dir/random.bin
mv $mnt/dir/file1 $mnt/renamed; rm $mnt/dir/file2
echo appended >> $mnt/numbers.txt
sync; sync $dev
mark rename-delete numbers.txt renamed dir/file3 dir/file4 dir/file5 dir/random.bin
umount $mnt; sync $dev
mark umount
sha256sum < $dev | cut -d' ' -f1 > $out/umount.dev
dmsetup status demo > $out/status.txt
dmsetup remove demo
W
"$here/run-guest.sh" --timeout 300 --out "$tmp/out" --disk "$tmp/data.img:512" --disk "$tmp/log.img:512" -- bash ${DEMO_TRACE:+-x} "$tmp/workload.sh"
# Trim the log after its last entry (dmsetup status: "... <entries> <highest log sector>", 512 B units).
highest="$(awk '{print $NF}' "$tmp/out/rec/status.txt")"
truncate -s $(( ((highest + 1) * 512 + 1048575) / 1048576 * 1048576 )) "$tmp/log.img"
mkdir -p "$repo/tests/data"
zstd -q -19 -f "$tmp/log.img" -o "$repo/tests/data/kernel-ext4-demo.log.zst"
{
  echo "# kernel-ext4-demo.log.zst: made by tests/vm/make-demo-log.sh (kernel $(cat "${FASTLOG_CACHE:-$repo/.cache/guest}/kver"), dm-log-writes, data disk 48 MiB, LBS 512)"
  echo "# dmsetup status at the end: $(cat "$tmp/out/rec/status.txt")"
  echo "# marks in log order: $(tr '\n' ' ' < "$tmp/out/rec/marks.txt")"
  echo "# at each mark: MARK SHA256 PATH (files durable at that mark, paths relative to the fs root)"
  cat "$tmp/out/rec/files.txt"
  echo "# whole 48 MiB data device after umount (= replay to mark umount or to the end):"
  echo "umount-device $(cat "$tmp/out/rec/umount.dev")"
} > "$repo/tests/data/kernel-ext4-demo.marks"
ls -l "$repo/tests/data/kernel-ext4-demo.log.zst"
