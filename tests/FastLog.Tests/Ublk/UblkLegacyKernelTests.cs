using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>
/// The same capture on a kernel whose ublk predates ioctl-encoded commands (6.0-6.3): Debian's 6.1 with ublk_drv
/// built from its own source (tests/vm/setup.sh). It has no GET_FEATURES and rejects encoded numbers, so the control
/// and data planes must fall back to the raw ones, and the server says it did.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class UblkLegacyKernelTests
{
    [Fact]
    public void A_logged_ext4_and_fio_run_on_6_1_replays_to_a_byte_identical_backing()
    {
        const long backingBytes = 128L << 20;
        UblkGuest.RunOnFreshDisks("""
            case "$(uname -r)" in 6.1.*) ;; *) echo "not a 6.1 kernel: $(uname -r)"; exit 1 ;; esac
            ublk_capture /dev/vda 512 2 16 --log /dev/vdb
            mkfs.ext4 -q -F $DEV
            mount $DEV /mnt/t
            fs_workload /mnt/t 20
            umount /mnt/t
            "$FASTLOG" mark $DEV unmounted
            e2fsck -fn $DEV
            fio --name=verify --filename=$DEV --ioengine=io_uring --direct=1 --rw=randwrite --bs=4k --iodepth=32 \
              --numjobs=2 --size=2M --offset=64M --offset_increment=4M --fsync=1 --verify=crc32c --verify_fatal=1 \
              --group_reporting > /tmp/fio.out 2>&1 || { cat /tmp/fio.out; exit 1; }
            ublk_stop
            grep -q 'legacy ublk command numbers' /tmp/serve.err || { echo "the server did not take the legacy path"; exit 1; }
            for _ in $(seq 100); do [ -e /dev/ublkc0 ] || break; sleep 0.05; done
            test ! -e /dev/ublkc0 || { echo "char device left behind: the legacy DEL_DEV did not run"; exit 1; }
            truncate -s 128M /tmp/unmounted.img
            "$FASTLOG" replay --log /dev/vdb --replay /tmp/unmounted.img --end-mark unmounted
            e2fsck -fn /tmp/unmounted.img
            echo "legacy ok"
            """, [backingBytes, 512L << 20], TimeSpan.FromMinutes(10), disks =>
        {
            (byte[] replayed, int flushes, int fuaWrites) = UblkLoggingTests.Replay(disks[1], backingBytes);
            Assert.True(flushes > 0, "ext4 and fio --fsync=1 send FLUSH; none was logged");
            Assert.True(fuaWrites > 0, "ext4 journal commits use FUA; no FUA write was logged");
            byte[] actual = File.ReadAllBytes(disks[0]);
            int firstDifference = replayed.AsSpan().CommonPrefixLength(actual);
            Assert.True(firstDifference == actual.Length, $"replayed log differs from the backing at byte {firstDifference}");
        }, kernel: GuestKernel.Debian61);
    }

    [Fact]
    public void Sigkill_under_load_on_6_1_removes_the_device_and_a_new_capture_starts()
    {
        GuestResult result = UblkGuest.RunOnFreshDisks("""
            ublk_capture /dev/vda 4096 2 16 --no-log
            sigkill_under_load
            ublk_capture /dev/vda 4096 1 4 --no-log
            printf 'after-kill' | dd of=$DEV bs=4096 conv=sync,fsync oflag=direct status=none
            ublk_stop
            test "$(head -c 10 /dev/vda)" = after-kill
            echo "sigkill ok"
            """, [256L << 20], TimeSpan.FromMinutes(5), kernel: GuestKernel.Debian61);
        Assert.Contains("sigkill ok", result.StdOut);
    }
}
