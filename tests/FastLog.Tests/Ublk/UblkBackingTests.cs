using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>
/// How `fastlog capture --frontend ublk` opens its backing store, seen from /proc in the guest kernel: O_DIRECT by
/// default, the page cache with --buffered-backing, and the page cache (with a message) for a block device, or a
/// file on one, whose logical blocks are larger than the device's, where O_DIRECT would fail every smaller request.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class UblkBackingTests
{
    [Fact]
    public void The_backing_is_opened_o_direct_unless_buffered_or_its_blocks_are_larger_than_the_devices()
    {
        GuestResult result = UblkGuest.RunOnFreshDisks("""
            # o_direct BACKING: "direct" or "buffered", from the flags of the server's descriptor for BACKING
            o_direct() {
              local f flags
              for f in /proc/$SERVER/fd/*; do
                if [ "$(readlink $f)" = "$1" ]; then
                  flags=$(awk '/^flags:/ {print $2}' /proc/$SERVER/fdinfo/${f##*/})
                  if (( 8#$flags & 8#40000 )); then echo direct; else echo buffered; fi
                  return
                fi
              done
              echo "no descriptor for $1" >&2; return 1
            }
            # write_sector1 TAG: one 512-byte O_DIRECT write at byte 512 of $DEV
            write_sector1() { printf '%-512s' "$1" | dd of=$DEV bs=512 seek=1 oflag=direct conv=fsync status=none; }

            ublk_capture /dev/vda 512 1 8 --no-log
            test "$(o_direct /dev/vda)" = direct
            write_sector1 direct-512
            ublk_stop
            test "$(dd if=/dev/vda bs=512 skip=1 count=1 status=none | head -c 10)" = direct-512

            ublk_capture /dev/vda 512 1 8 --no-log --buffered-backing
            test "$(o_direct /dev/vda)" = buffered
            ublk_stop

            # /dev/vdb has 4096-byte logical blocks: a 512-byte device over it cannot use O_DIRECT
            test "$(blockdev --getss /dev/vdb)" = 4096
            ublk_capture /dev/vdb 512 1 8 --no-log
            grep -q "in 4096-byte units" /tmp/serve.err
            test "$(o_direct /dev/vdb)" = buffered
            write_sector1 paged-4096
            ublk_stop
            test "$(dd if=/dev/vdb bs=512 skip=1 count=1 status=none | head -c 10)" = paged-4096

            ublk_capture /dev/vdb 4096 1 8 --no-log
            test "$(o_direct /dev/vdb)" = direct
            ublk_stop

            # so has a file on a file system on it (statx STATX_DIOALIGN)
            mkfs.ext4 -q -F /dev/vdb
            mount /dev/vdb /mnt/t
            truncate -s 4M /mnt/t/backing.img
            ublk_capture /mnt/t/backing.img 512 1 8 --no-log
            grep -q "in 4096-byte units" /tmp/serve.err
            test "$(o_direct /mnt/t/backing.img)" = buffered
            write_sector1 paged-file
            ublk_stop
            test "$(dd if=/mnt/t/backing.img bs=512 skip=1 count=1 status=none | head -c 10)" = paged-file
            ublk_capture /mnt/t/backing.img 4096 1 8 --no-log
            test "$(o_direct /mnt/t/backing.img)" = direct
            ublk_stop
            umount /mnt/t
            echo "backing ok"
            """, [16L << 20, 16L << 20], TimeSpan.FromMinutes(5), diskBlockSizes: [512, 4096]);
        Assert.Contains("backing ok", result.StdOut);
    }
}
