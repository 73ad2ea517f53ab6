using FastLog.Tests.Guest;
using FastLog.Tests.Support;
using FastLog.Tests.Ublk;

namespace FastLog.Tests.Hardening;

/// <summary>
/// Real device faults in the guest kernel: dm-flakey under the log device (or the backing device) switches to
/// failing every write while a ublk capture serves an O_DSYNC workload that journals each write it saw complete.
/// The device's I/O then fails (the workload stops by itself, no task hangs), capture says which device failed
/// and why, and the log read back with --scan holds every acknowledged write.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class FaultInjectionTests
{
    private const long DiskBytes = 64L << 20;

    /// <summary>The guest script: flakey over <paramref name="failing"/>, capture, workload, then the fault.</summary>
    private static string Script(string failing) => $$"""
        size=$(blockdev --getsz {{failing}})
        dmsetup create flaky --table "0 $size flakey {{failing}} 0 3600 0"
        dmsetup mknodes
        backing=/dev/vda; log=/dev/vdb
        [ {{failing}} = /dev/vda ] && backing=/dev/mapper/flaky || log=/dev/mapper/flaky
        ublk_capture $backing 4096 1 8 --log $log
        : > /out/acked
        ( set +o pipefail; s=0; while true; do
            i=$((s % 64)); yes "blk $i seq $s" | head -c 4096 > /tmp/blk
            dd if=/tmp/blk of=$DEV bs=4096 seek=$i count=1 oflag=direct,dsync conv=notrunc status=none 2>>/tmp/dd.err || exit 0
            echo "$i $s" >> /out/acked; s=$((s+1))
          done ) &
        writer=$!
        sleep 4
        dmsetup suspend flaky
        dmsetup reload flaky --table "0 $size flakey {{failing}} 0 0 1 1 error_writes"
        dmsetup resume flaky
        for _ in $(seq 300); do kill -0 $writer 2>/dev/null || break; sleep 0.1; done
        if kill -0 $writer 2>/dev/null; then echo "the workload hangs on the failing device" >&2; exit 1; fi
        no_hung_tasks
        echo "acknowledged: $(wc -l < /out/acked)"
        kill -TERM $SERVER
        for _ in $(seq 300); do kill -0 $SERVER 2>/dev/null || break; sleep 0.1; done
        if kill -0 $SERVER 2>/dev/null; then
          echo "capture does not stop after SIGTERM with a failing $([ $log = /dev/mapper/flaky ] && echo log || echo backing) device" >&2
          cat /tmp/serve.err >&2; for t in /proc/$SERVER/task/*; do echo "== $t"; cat $t/stack; done >&2; exit 1
        fi
        wait $SERVER || echo "capture exit $?"
        cat /tmp/serve.err; tail -3 /tmp/dd.err
        dmsetup remove flaky
        echo "faulted ok"
        """;

    [Theory]
    [InlineData("/dev/vdb", "log")]
    [InlineData("/dev/vda", "backing")]
    public void WritesFailingMidRunFailTheDeviceNameTheDeviceAndLoseNoAcknowledgedWrite(string failing, string which)
    {
        string dir = Directory.CreateTempSubdirectory("fastlog-faults.").FullName;
        try
        {
            string backing = GuestVm.CreateSparseImage(Path.Combine(dir, "backing.img"), DiskBytes);
            string log = GuestVm.CreateSparseImage(Path.Combine(dir, "log.img"), DiskBytes);
            string outDir = Directory.CreateDirectory(Path.Combine(dir, "out")).FullName;
            GuestResult result = UblkGuest.Run(Script(failing), [new GuestDisk(backing, 4096), new GuestDisk(log, 4096)],
                TimeSpan.FromMinutes(3), outDir).EnsureSuccess();

            Assert.Contains("faulted ok", result.StdOut);
            string said = result.StdOut + result.StdErr;
            Assert.Contains(which == "log" ? "fastlog capture: the log failed" : "fastlog capture: the backing store /dev/mapper/flaky failed", said);
            Assert.Contains("Input/output error", said);
            string image = GuestVm.CreateSparseImage(Path.Combine(dir, "replayed.img"), DiskBytes);
            Shell.Check($"{FastlogBinary.Path} replay --log {log} --replay {image} --scan");
            int acknowledged = CaptureKillLoopTests.AssertAcknowledgedWritesPresent(Path.Combine(outDir, "acked"), image, $"{which} failing");
            Assert.True(acknowledged > 5, $"only {acknowledged} writes before the fault: the fault hit no load\n{result.StdOut}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
