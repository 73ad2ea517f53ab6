#!/usr/bin/env bash
# Run a command inside a qemu (TCG) guest running Debian's 6.12 kernel (or 6.1: FASTLOG_CACHE=<repo>/.cache/guest-6.1),
# with the host's / shared read-only (tmpfs overlay on top) so host tools are available.
#
#   tests/vm/run-guest.sh [--disk IMG[:LBS]]... [--out DIR] [--timeout S] [--mem MB]
#                         [--smp N] [--env NAME=VALUE]... -- COMMAND [ARGS...]
#
#  --disk IMG[:LBS[:sparse]]  raw image file attached as virtio disk (/dev/vda, /dev/vdb, ...
#                    in order); LBS = logical (and physical) block size, 512 (default) or 4096;
#                    discards punch holes in IMG; "sparse": zero writes punch holes too.
#  --out DIR         host directory mounted read-write at /out in the guest (default: none,
#                    a throw-away directory is used).
#  --timeout S       wall-clock limit for the whole VM (default 600); exit 124 on timeout.
#  --env NAME=VALUE  export into the guest command's environment (FASTLOG_* variables,
#                    PATH, HOME, DOTNET_ROOT of the caller are passed through automatically).
# The command runs with the caller's working directory (if it exists in the guest, which
# it does for any path on the host's root fs), as root. Its stdout/stderr are printed on
# this script's stdout/stderr after the guest stops, and this script exits with the
# command's exit status. 125 = the harness failed (guest did not report a status; a guest
# that stopped before the command started is booted once more first).
# Run tests/vm/setup.sh once first. Set FASTLOG_GUEST_CONSOLE=1 to see the boot console.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${FASTLOG_CACHE:-$repo/.cache/guest}"
disks=(); out=""; tmo=600; mem=2048; smp=2; envs=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --disk) disks+=("$2"); shift 2;;
    --out) out="$2"; shift 2;;
    --timeout) tmo="$2"; shift 2;;
    --mem) mem="$2"; shift 2;;
    --smp) smp="$2"; shift 2;;
    --env) envs+=("$2"); shift 2;;
    --) shift; break;;
    -h|--help) sed -n '2,20p' "$0"; exit 0;;
    *) echo "run-guest: unknown option $1 (missing '--' before the command?)" >&2; exit 125;;
  esac
done
[[ $# -gt 0 ]] || { echo "run-guest: no command given" >&2; exit 125; }
for f in vmlinuz initrd kernel-root; do
  [[ -e "$cache/$f" ]] || { echo "run-guest: guest not prepared ($cache/$f missing): run tests/vm/setup.sh" >&2; exit 125; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "run-guest: qemu-system-x86_64 missing: run tests/vm/setup.sh" >&2; exit 125; }

ctl="$(mktemp -d "${TMPDIR:-/tmp}/fastlog-guest.XXXXXX")"
cleanup() { rm -rf "$ctl"; }
trap cleanup EXIT
if [[ -z "$out" ]]; then out="$ctl/out"; fi
mkdir -p "$out"; out="$(cd "$out" && pwd)"

# The script the guest runs (inside the chroot).
{
  printf 'export PATH=%q\n' "${PATH:+$PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  [[ -n "${DOTNET_ROOT:-}" ]] && printf 'export DOTNET_ROOT=%q\n' "$DOTNET_ROOT"
  printf 'export HOME=%q\n' "${HOME:-/root}"
  echo 'export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1'
  printf 'export FASTLOG_IN_GUEST=1 FASTLOG_GUEST_OUT=/out\n'
  while IFS='=' read -r name _; do
    [[ "$name" == FASTLOG_* && "$name" != FASTLOG_GUEST_* ]] && printf 'export %s=%q\n' "$name" "${!name}"
  done < <(env)
  for e in "${envs[@]}"; do printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"; done
  printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
  echo 'c=/run/fastlog-ctl; : > $c/started'
  printf '( %s ) >$c/stdout 2>$c/stderr </dev/null\n' "$(printf '%q ' "$@")"
  echo 'rc=$?; sync; echo $rc > $c/status.tmp && mv $c/status.tmp $c/status'
} > "$ctl/run.sh"
: > "$ctl/stdout"; : > "$ctl/stderr"

args=(-machine q35 -cpu max -smp "$smp" -m "$mem" -nodefaults -no-user-config -nographic -no-reboot
      -serial "file:$ctl/console" -monitor none -nic none
      -kernel "$cache/vmlinuz" -initrd "$cache/initrd"
      -append "console=ttyS0 quiet loglevel=3 panic=-1 fastlog.modules=$(readlink -f "$cache/kernel-root")"
      -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
      -virtfs "local,path=$ctl,mount_tag=ctl,security_model=none"
      -virtfs "local,path=$out,mount_tag=out,security_model=none")
i=0
for d in "${disks[@]}"; do
  IFS=: read -r img lbs flags <<< "$d"; lbs="${lbs:-512}"; extra=""
  case "${flags:-}" in
    "") ;;
    sparse) extra=",detect-zeroes=unmap" ;;   # zero writes punch holes in the host file
    *) echo "run-guest: unknown disk flag '$flags' in $d (known: sparse)" >&2; exit 125 ;;
  esac
  [[ -f "$img" ]] || { echo "run-guest: disk image $img not found" >&2; exit 125; }
  [[ "$lbs" == 512 || "$lbs" == 4096 ]] || { echo "run-guest: block size must be 512 or 4096: $d" >&2; exit 125; }
  args+=(-drive "file=$img,if=none,id=d$i,format=raw,cache=none,aio=io_uring,discard=unmap$extra"
         -device "virtio-blk-pci,drive=d$i,logical_block_size=$lbs,physical_block_size=$lbs")
  i=$((i+1))
done

# qemu under TCG very rarely crashes in early boot. A guest that stopped before starting the command, without a
# timeout (124, or 137 when the KILL was needed), boots once more; once the command has started, never.
for attempt in 1 2; do
  start=$(date +%s.%N)
  set +e
  timeout --kill-after=10 "$tmo" qemu-system-x86_64 "${args[@]}" </dev/null >"$ctl/qemu.log" 2>&1
  qrc=$?
  set -e
  end=$(date +%s.%N)
  [[ $attempt == 1 && ! -e "$ctl/started" && $qrc != 124 && $qrc != 137 ]] || break
  echo "run-guest: the guest stopped before running the command (qemu exit $qrc); booting it once more" >&2
done
cat "$ctl/stdout"
cat "$ctl/stderr" >&2
if [[ -n "${FASTLOG_GUEST_CONSOLE:-}" ]]; then cat "$ctl/console" >&2; fi
if [[ -s "$ctl/status" ]]; then
  rc="$(cat "$ctl/status")"
  [[ -n "${FASTLOG_GUEST_TIMING:-}" ]] && echo "run-guest: guest wall time $(awk "BEGIN{printf \"%.1f\", $end - $start}") s" >&2
  exit "$rc"
fi
echo "run-guest: guest did not report an exit status (qemu exit $qrc$([[ $qrc == 124 ]] && echo ", timed out after ${tmo}s"))" >&2
echo "--- qemu ---" >&2; tail -20 "$ctl/qemu.log" >&2
echo "--- guest console (tail) ---" >&2; tail -40 "$ctl/console" >&2
[[ $qrc == 124 ]] && exit 124
exit 125
