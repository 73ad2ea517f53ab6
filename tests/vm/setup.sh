#!/usr/bin/env bash
# Prepare the guest-kernel test harness (idempotent; fast when already done).
#  - installs host packages (qemu, busybox-static, cpio, kmod, fio, fs tools, ...)
#  - fetches Debian's newest linux-image-6.12.*+deb12-amd64-unsigned, unpacks it, runs depmod
#  - builds a tiny initramfs (busybox + 9p/netfs/overlay modules + tests/vm/init)
# Everything is cached under $FASTLOG_CACHE (default: <repo>/.cache/guest).
#
# FASTLOG_GUEST_SERIES=6.1 prepares Debian's 6.1 kernel instead, in $FASTLOG_LEGACY_CACHE (default
# <repo>/.cache/guest-6.1): its ublk predates ioctl-encoded commands (6.0-6.3), so FastLog's legacy path is tested on
# a real kernel. Debian builds 6.1 without ublk, so ublk_drv.ko is built here, out of tree, from that kernel's own
# source and headers.
# Prints nothing on success except a one-line summary; set VERBOSE=1 for more.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
series="${FASTLOG_GUEST_SERIES:-6.12}"
case "$series" in
  6.12) image_re='^linux-image-6\.12\..*\+deb12-amd64-unsigned$'; cache="${FASTLOG_CACHE:-$repo/.cache/guest}" ;;
  6.1) image_re='^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$'; cache="${FASTLOG_LEGACY_CACHE:-$repo/.cache/guest-6.1}" ;;
  *) echo "setup: FASTLOG_GUEST_SERIES must be 6.12 or 6.1, not '$series'" >&2; exit 1 ;;
esac
mkdir -p "$cache"
log() { [[ "${VERBOSE:-0}" == 1 ]] && echo "setup: $*" >&2 || true; }

need_cmds=(qemu-system-x86_64 busybox cpio depmod modprobe fio mkfs.btrfs mkfs.xfs mkfs.ext4 e2fsck btrfs dmsetup zstd xz losetup timeout sha256sum fstrim blkdiscard)
pkgs=(qemu-system-x86 busybox-static cpio kmod fio btrfs-progs xfsprogs e2fsprogs dmsetup zstd xz-utils util-linux mount coreutils)
if [[ $series == 6.1 ]]; then need_cmds+=(make gcc-12); pkgs+=(make gcc-12 libc6-dev libelf1); fi # libelf1: kbuild's objtool
missing=0
for c in "${need_cmds[@]}"; do command -v "$c" >/dev/null 2>&1 || { log "missing $c"; missing=1; }; done
# busybox must be the static one (it runs inside the initramfs)
dpkg -s busybox-static >/dev/null 2>&1 || missing=1
if [[ $series == 6.1 ]]; then dpkg -s libelf1 libc6-dev >/dev/null 2>&1 || missing=1; fi
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
# build_ublk IMAGE_PACKAGE: builds ublk_drv.ko for the unpacked kernel in $kdir from the same Debian upload's source
# and headers (versions pinned to the image's), and installs it under lib/modules/KVER/extra.
build_ublk() {
  local image=$1 ver abi kv b
  ver="$(apt-cache show "$image" | awk '/^Version:/ {print $2; exit}')"
  abi="${image#linux-image-}"; abi="${abi%-amd64-unsigned}"        # 6.1.0-56
  kv="$abi-amd64"
  b="$cache/ublk-build"
  rm -rf "$b"; mkdir -p "$b/dl" "$b/root" "$b/src"
  log "downloading headers, kbuild and source $ver to build ublk_drv for $kv"
  if ! (cd "$b/dl" && apt-get download -qq "linux-headers-$kv=$ver" "linux-headers-$abi-common=$ver" \
        "linux-kbuild-${series}=$ver" "linux-source-${series}=$ver" >/dev/null 2>"$b/err"); then
    cat "$b/err" >&2; exit 1
  fi
  for d in "$b"/dl/*.deb; do dpkg -x "$d" "$b/root"; done
  rm -rf "$b/dl"
  tar -xJf "$b/root/usr/src/linux-source-$series.tar.xz" -C "$b/src" --strip-components=3 \
    "linux-source-$series/drivers/block/ublk_drv.c"
  rm -f "$b/root/usr/src/linux-source-$series.tar.xz"
  # The headers package includes its -common sibling by absolute path (/usr/src/...): point it at our copy.
  sed -i "s|/usr/src/linux-headers-$abi-common|$b/root/usr/src/linux-headers-$abi-common|" "$b/root/usr/src/linux-headers-$kv/Makefile"
  echo 'obj-m := ublk_drv.o' > "$b/src/Kbuild"
  if ! make -s -C "$b/root/usr/src/linux-headers-$kv" M="$b/src" modules >"$b/build.log" 2>&1; then
    cat "$b/build.log" >&2; echo "setup: building ublk_drv.ko for $kv failed" >&2; exit 1
  fi
  mkdir -p "$kdir/lib/modules/$kv/extra"
  cp "$b/src/ublk_drv.ko" "$kdir/lib/modules/$kv/extra/"
  rm -f "$kdir/lib/modules/$kv/modules.dep"
  rm -rf "$b"
}
kdir="$cache/kernel"
if [[ ! -f "$kdir/.done" ]]; then
  apt_update_once
  pkg="$(apt-cache search --names-only "$image_re" | awk '{print $1}' | sort -V | tail -1)"
  if [[ -z "$pkg" ]]; then
    echo "setup: no package matching $image_re in apt sources (need Debian bookworm / bookworm-updates or -security)" >&2
    exit 1
  fi
  log "downloading $pkg"
  rm -rf "$cache/dl" "$kdir"; mkdir -p "$cache/dl" "$kdir"
  if ! (cd "$cache/dl" && apt-get download -qq "$pkg" >/dev/null 2>"$cache/dl/err"); then
    cat "$cache/dl/err" >&2; exit 1
  fi
  dpkg -x "$cache"/dl/*.deb "$kdir"
  rm -rf "$cache/dl"
  if [[ $series == 6.1 ]]; then build_ublk "$pkg"; fi
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
  for m in virtio_pci 9pnet_virtio 9p overlay virtio_blk loop dm_mod dm_log_writes dm_flakey ublk_drv; do
    modprobe -d "$kdir" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
  done | awk '!seen[$0]++' | while read -r f; do
    b="$(basename "$(basename "$f" .xz)" .ko)"
    case "$f" in *.xz) xz -dc "$f" > "$root/modules/$b.ko" ;; *) cp "$f" "$root/modules/$b.ko" ;; esac
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
