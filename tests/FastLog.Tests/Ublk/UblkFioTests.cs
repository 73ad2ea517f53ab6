using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>
/// fio with crc32c verification and an fsync after every write, several jobs on a multi-queue device whose backing
/// is opened with O_DIRECT, in the guest kernel. After the server stops, the same fio job verifies the backing disk directly (verify_only), so
/// what the device acknowledged is what the backing holds.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class UblkFioTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    public void Fio_verify_with_fsync_finds_no_errors(int iodepth)
    {
        GuestResult result = UblkGuest.RunOnFreshDisks($$"""
            job() {
              fio --name=verify --filename=$1 --ioengine=io_uring --direct=1 --rw=randwrite --bsrange=4k-64k \
                --iodepth={{iodepth}} --numjobs=4 --size=16M --offset_increment=16M --fsync=1 \
                --verify=crc32c --verify_fatal=1 --group_reporting "${@:2}"
            }
            ublk_capture /dev/vda 4096 2 32 --no-log
            job $DEV > /tmp/fio.out 2>&1 || { cat /tmp/fio.out; exit 1; }
            grep -E "err= *0" /tmp/fio.out
            ublk_stop
            job /dev/vda --verify_only > /tmp/fio-backing.out 2>&1 || { cat /tmp/fio-backing.out; exit 1; }
            no_hung_tasks
            echo "fio ok"
            """, [128L << 20], TimeSpan.FromMinutes(10));
        Assert.Contains("fio ok", result.StdOut);
        Assert.DoesNotContain("verify:", result.StdErr); // fio prints "verify: bad magic" style lines on mismatch
    }
}
