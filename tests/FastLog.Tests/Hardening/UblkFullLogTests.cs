using FastLog.Tests.Guest;
using FastLog.Tests.Support;
using FastLog.Tests.Ublk;
using Xunit.Abstractions;

namespace FastLog.Tests.Hardening;

/// <summary>
/// A log device that fills up (ENOSPC) under load, in the guest kernel, two captures in one boot:
/// <list type="number">
/// <item>fio (4 KiB randwrite, io_uring, O_DIRECT, fsync every 4 writes) on a ublk capture whose log device is 2 MiB:
/// fio ends by itself with an I/O error, ENOSPC (capture fails the requests with the log's errno, which the block layer
/// passes on as BLK_STS_NOSPC), and does not hang (it runs under <c>timeout</c>); no task hangs, capture exits
/// non-zero saying "the log failed" and naming the full log device, and the log reads back with --scan.</item>
/// <item>The "nothing lost" half uses the journaling workload (<see cref="JournalingWriter"/>) instead of fio,
/// because fio cannot say which of its writes completed before the failure (its verify state covers a clean run
/// only): dd with O_DIRECT|O_DSYNC of 4 KiB blocks onto a capture whose log device is 1 MiB, journaling each write
/// it saw complete. The workload's writes then fail, capture says why, and every acknowledged write is in the log
/// replayed with --scan.</item>
/// </list>
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class UblkFullLogTests(ITestOutputHelper output)
{
    private const long BackingBytes = 64L << 20;

    private static readonly string Script = $$"""
        ublk_capture /dev/vda 4096 1 8 --log /dev/vdb
        frc=0
        timeout 120 fio --name=fill --filename=$DEV --rw=randwrite --bs=4k --ioengine=io_uring --iodepth=8 --direct=1 \
          --fsync=4 --size=32M --randrepeat=1 --output=/tmp/fio.out >/tmp/fio.err 2>&1 || frc=$?
        echo "fio exit $frc"; cat /tmp/fio.out /tmp/fio.err
        if [ $frc = 124 ]; then echo "fio hangs on the full log" >&2; exit 1; fi
        if [ $frc = 0 ]; then echo "fio wrote 32 MiB through a 2 MiB log without an error" >&2; exit 1; fi
        no_hung_tasks
        kill -TERM $SERVER
        rc=0; wait $SERVER || rc=$?
        echo "== capture (fio), exit $rc"; cat /tmp/serve.err
        if [ $rc = 0 ]; then echo "capture exited 0 although its log filled up under fio" >&2; exit 1; fi
        [ ! -b $DEV ] || { echo "$DEV still exists after capture stopped" >&2; exit 1; }

        ublk_capture /dev/vda 4096 1 8 --log /dev/vdc
        : > /out/acked
        bash {{JournalingWriter.Script}} $DEV /out/acked /tmp/blk /tmp/dd.err &
        writer=$!
        for _ in $(seq 1200); do kill -0 $writer 2>/dev/null || break; sleep 0.1; done
        if kill -0 $writer 2>/dev/null; then echo "the journaling workload neither fails nor ends on the full log" >&2; exit 1; fi
        no_hung_tasks
        echo "acknowledged: $(wc -l < /out/acked)"; tail -2 /tmp/dd.err
        kill -TERM $SERVER
        rc=0; wait $SERVER || rc=$?
        echo "== capture (dd), exit $rc"; cat /tmp/serve.err
        if [ $rc = 0 ]; then echo "capture exited 0 although its log filled up under dd" >&2; exit 1; fi
        echo "full log ok"
        """;

    [Fact]
    public void A_log_device_that_fills_up_under_fio_with_fsync_fails_the_io_names_the_full_log_and_loses_no_acknowledged_write()
    {
        string dir = Directory.CreateTempSubdirectory("fastlog-full-log.").FullName;
        try
        {
            string backing = GuestVm.CreateSparseImage(Path.Combine(dir, "backing.img"), BackingBytes);
            string fioLog = GuestVm.CreateSparseImage(Path.Combine(dir, "fio-log.img"), 2L << 20);
            string ddLog = GuestVm.CreateSparseImage(Path.Combine(dir, "dd-log.img"), 1L << 20);
            string outDir = Directory.CreateDirectory(Path.Combine(dir, "out")).FullName;
            GuestResult result = UblkGuest.Run(Script, [new GuestDisk(backing, 4096), new GuestDisk(fioLog, 4096), new GuestDisk(ddLog, 4096)],
                TimeSpan.FromMinutes(4), outDir).EnsureSuccess();
            output.WriteLine(result.StdOut);
            string said = result.StdOut + result.StdErr;
            Assert.Contains("full log ok", result.StdOut);

            string fioPart = said[..said.IndexOf("== capture (dd)", StringComparison.Ordinal)];
            string fioSaid = fioPart[..fioPart.IndexOf("== capture (fio)", StringComparison.Ordinal)];
            Assert.True(fioSaid.Contains("err=28") && fioSaid.Contains("io_u error on file /dev/ublkb"),
                $"fio did not fail its writes with ENOSPC on the full log:\n{fioSaid}");
            Assert.True(fioPart.Contains("fastlog capture: the log failed: the log device /dev/vdb is full"),
                $"capture did not say that the log /dev/vdb filled up under fio:\n{fioPart}");
            Assert.True(said.Contains("fastlog capture: the log failed: the log device /dev/vdc is full"),
                $"capture did not say that the log /dev/vdc filled up under dd:\n{said}");

            string fioImage = GuestVm.CreateSparseImage(Path.Combine(dir, "fio-replayed.img"), BackingBytes);
            (int rc, string replaySaid) = GuestVm.RunHost(FastlogBinary.Path, "replay", "--log", fioLog, "--replay", fioImage, "--scan");
            Assert.True(rc == 0, $"replay --scan of the log fio filled failed ({rc}): {replaySaid}");
            File.Delete(fioImage);

            string ddImage = GuestVm.CreateSparseImage(Path.Combine(dir, "dd-replayed.img"), BackingBytes);
            (rc, replaySaid) = GuestVm.RunHost(FastlogBinary.Path, "replay", "--log", ddLog, "--replay", ddImage, "--scan");
            Assert.True(rc == 0, $"replay --scan of the log dd filled failed ({rc}): {replaySaid}");
            int acknowledged = JournalingWriter.AssertAcknowledgedWritesPresent(Path.Combine(outDir, "acked"), ddImage, "the full 1 MiB log");
            Assert.True(acknowledged > 20, $"only {acknowledged} writes were acknowledged before a 1 MiB log filled up\n{result.StdOut}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
