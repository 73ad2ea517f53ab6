#!/usr/bin/env bash
# Prepare the guest-kernel test harness (idempotent; fast when already done).
#  - installs host packages (qemu, busybox-static, cpio, kmod, fio, fs tools, ...)
#  - fetches Debian's newest linux-image-6.12.*+deb12-amd64-unsigned, unpacks it, runs depmod
#  - builds a tiny initramfs (busybox + 9p/netfs/overlay modules + tests/vm/init)
# Everything is cached under $FASTLOG_CACHE (default: <repo>/.cache/guest).
# Prints nothing on success except a one-line summary; set VERBOSE=1 for more.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${FASTLOG_CACHE:-$repo/.cache/guest}"
mkdir -p "$cache"
log() { [[ "${VERBOSE:-0}" == 1 ]] && echo "setup: $*" >&2 || true; }

need_cmds=(qemu-system-x86_64 busybox cpio depmod modprobe fio mkfs.btrfs mkfs.xfs mkfs.ext4 e2fsck btrfs dmsetup zstd xz losetup timeout sha256sum fstrim blkdiscard)
pkgs=(qemu-system-x86 busybox-static cpio kmod fio btrfs-progs xfsprogs e2fsprogs dmsetup zstd xz-utils util-linux mount coreutils)
missing=0
for c in "${need_cmds[@]}"; do command -v "$c" >/dev/null 2>&1 || { log "missing $c"; missing=1; }; done
# busybox must be the static one (it runs inside the initramfs)
dpkg -s busybox-static >/dev/null 2>&1 || missing=1
apt_updated=0
apt_update_once() {
  if [[ $apt_updated == 0 ]]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
}
if [[ $missing == 1 ]]; then
  apt_update_once
  log "apt-get install ${pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

# --- guest kernel -----------------------------------------------------------
kdir="$cache/kernel"
if [[ ! -f "$kdir/.done" ]]; then
  apt_update_once
  pkg="$(apt-cache search --names-only '^linux-image-6\.12\..*\+deb12-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -1)"
  if [[ -z "$pkg" ]]; then
    echo "setup: no linux-image-6.12.*+deb12-amd64-unsigned in apt sources (need Debian bookworm / bookworm-updates or -security)" >&2
    exit 1
  fi
  log "downloading $pkg"
  rm -rf "$cache/dl" "$kdir"; mkdir -p "$cache/dl" "$kdir"
  if ! (cd "$cache/dl" && apt-get download -qq "$pkg" >/dev/null 2>"$cache/dl/err"); then
    cat "$cache/dl/err" >&2; exit 1
  fi
  dpkg -x "$cache"/dl/*.deb "$kdir"
  rm -rf "$cache/dl"
  touch "$kdir/.done"
fi
kver="$(ls "$kdir/lib/modules" | sort -V | tail -1)"
vmlinuz="$kdir/boot/vmlinuz-$kver"
[[ -f "$vmlinuz" ]] || { echo "setup: $vmlinuz missing" >&2; exit 1; }
if [[ ! -f "$kdir/lib/modules/$kver/modules.dep" ]]; then
  depmod -b "$kdir" "$kver"
fi

# --- initramfs --------------------------------------------------------------
initrd="$cache/initrd-$kver.cpio.gz"
bb=/bin/busybox
stamp="$(sha256sum "$here/init" "$here/setup.sh" "$bb" | sha256sum | cut -c1-16)"
if [[ ! -f "$initrd" || "$(cat "$initrd.stamp" 2>/dev/null)" != "$stamp" ]]; then
  log "building initramfs"
  root="$cache/initramfs"
  rm -rf "$root"; mkdir -p "$root"/{bin,dev,proc,sys,mnt,newroot,lower,upper,modules}
  cp "$bb" "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  # 9p root + overlay, and what tests need without udev (loaded by init with insmod: going
  # through modprobe over 9p with .ko.xz costs ~2 s of TCG time per boot).
  for m in 9pnet_virtio 9p overlay virtio_blk loop dm_mod dm_log_writes dm_flakey ublk_drv; do
    modprobe -d "$kdir" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
  done | awk '!seen[$0]++' | while read -r f; do
    b="$(basename "$f" .ko.xz)"
    xz -dc "$f" > "$root/modules/$b.ko"
    echo "$b.ko" >> "$root/modules/order"
  done
  cp "$here/init" "$root/init"; chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 > "$initrd.tmp")
  mv "$initrd.tmp" "$initrd"
  echo "$stamp" > "$initrd.stamp"
  rm -rf "$root"
fi
ln -sfn "$vmlinuz" "$cache/vmlinuz"
ln -sfn "$initrd" "$cache/initrd"
ln -sfn "$kdir" "$cache/kernel-root"
echo "$kver" > "$cache/kver"
echo "guest ready: kernel $kver, cache $cache"
