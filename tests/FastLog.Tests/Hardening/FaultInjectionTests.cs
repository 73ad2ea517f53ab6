using FastLog.Tests.Guest;
using FastLog.Tests.Support;
using FastLog.Tests.Ublk;

namespace FastLog.Tests.Hardening;

/// <summary>
/// Real device faults in the guest kernel: dm-flakey under the log device (or the backing device) switches to
/// failing every write while a ublk capture serves fio (random writes, fsync every 4) and, beside it, an O_DSYNC
/// workload that journals each write it saw complete (fio cannot say which of its writes completed). The device's
/// I/O then fails (fio and the workload stop by themselves, no task hangs), capture says which device failed and
/// why, and the log read back with --scan holds every acknowledged write. And a backing device with a bad sector.
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
        timeout 120 fio --name=load --filename=$DEV --rw=randwrite --bs=4k --ioengine=io_uring --iodepth=8 --direct=1 \
          --fsync=4 --offset=32M --size=16M --time_based --runtime=100 --output=/tmp/fio.out >/tmp/fio.err 2>&1 &
        fio=$!
        bash {{JournalingWriter.Script}} $DEV /out/acked /tmp/blk /tmp/dd.err &
        writer=$!
        sleep 4
        kill -0 $fio
        dmsetup suspend flaky
        dmsetup reload flaky --table "0 $size flakey {{failing}} 0 0 1 1 error_writes"
        dmsetup resume flaky
        for _ in $(seq 300); do kill -0 $writer 2>/dev/null || break; sleep 0.1; done
        if kill -0 $writer 2>/dev/null; then echo "the workload hangs on the failing device" >&2; exit 1; fi
        for _ in $(seq 300); do kill -0 $fio 2>/dev/null || break; sleep 0.1; done
        if kill -0 $fio 2>/dev/null; then echo "fio hangs on the failing device" >&2; exit 1; fi
        frc=0; wait $fio || frc=$?
        echo "fio exit $frc"; grep -m1 "io_u error" /tmp/fio.out /tmp/fio.err || true
        if [ $frc = 0 ] || [ $frc = 124 ]; then echo "fio did not fail by itself on the failing device (exit $frc)" >&2; cat /tmp/fio.out >&2; exit 1; fi
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
            Assert.Matches(@"fio exit [1-9]", result.StdOut); // fio ran as load and failed by itself
            string said = result.StdOut + result.StdErr;
            Assert.Contains(which == "log" ? "fastlog capture: the log failed" : "fastlog capture: the backing store /dev/mapper/flaky failed", said);
            Assert.Contains("Input/output error", said);
            string image = GuestVm.CreateSparseImage(Path.Combine(dir, "replayed.img"), DiskBytes);
            Shell.Check($"{FastlogBinary.Path} replay --log {log} --replay {image} --scan");
            int acknowledged = JournalingWriter.AssertAcknowledgedWritesPresent(Path.Combine(outDir, "acked"), image, $"{which} failing");
            Assert.True(acknowledged > 5, $"only {acknowledged} writes before the fault: the fault hit no load\n{result.StdOut}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private const long BadByte = 4L << 20;

    /// <summary>
    /// A backing device with a bad sector. The guest has no dm-dust (CONFIG_DM_DUST is not set in Debian's 6.12), so
    /// its bad-block model is built from dm-flakey: one 4 KiB block of the backing device is a flakey segment that
    /// fails every read (error_reads, always down), the rest is linear. The capture fails that block's read with EIO,
    /// serves every other request and logs the writes, and at exit names the backing store and the first failed request.
    /// </summary>
    [Fact]
    public void A_bad_sector_on_the_backing_fails_its_read_names_the_device_and_the_rest_is_served_and_logged()
    {
        string dir = Directory.CreateTempSubdirectory("fastlog-badsector.").FullName;
        try
        {
            string backing = GuestVm.CreateSparseImage(Path.Combine(dir, "backing.img"), DiskBytes);
            string log = GuestVm.CreateSparseImage(Path.Combine(dir, "log.img"), DiskBytes);
            long bad = BadByte / 512, total = DiskBytes / 512;
            GuestResult result = UblkGuest.Run($$"""
                dmsetup create dusty <<TABLE
                0 {{bad}} linear /dev/vda 0
                {{bad}} 8 flakey /dev/vda {{bad}} 0 1 1 error_reads
                {{bad + 8}} {{total - bad - 8}} linear /dev/vda {{bad + 8}}
                TABLE
                dmsetup mknodes
                ublk_capture /dev/mapper/dusty 4096 1 8 --log /dev/vdb
                { yes good || true; } | head -c 4096 > /tmp/good
                dd if=/tmp/good of=$DEV bs=4096 count=1 oflag=direct conv=nocreat,notrunc status=none
                dd if=/tmp/good of=$DEV bs=4096 count=1 seek=$(({{BadByte}} / 4096)) oflag=direct conv=nocreat,notrunc status=none
                if dd if=$DEV of=/tmp/bad bs=4096 count=1 skip=$(({{BadByte}} / 4096)) iflag=direct status=none 2>/tmp/dd.err; then
                  echo "the bad sector read back fine" >&2; exit 1
                fi
                cat /tmp/dd.err
                dd if=$DEV of=/tmp/back bs=4096 count=1 iflag=direct status=none
                cmp /tmp/good /tmp/back
                no_hung_tasks
                kill -TERM $SERVER
                rc=0; wait $SERVER || rc=$?
                cat /tmp/serve.err
                echo "capture exit $rc"
                dmsetup remove dusty
                echo "bad sector ok"
                """, [new GuestDisk(backing, 4096), new GuestDisk(log, 4096)], TimeSpan.FromMinutes(3)).EnsureSuccess();

            string said = result.StdOut + result.StdErr;
            Assert.Contains("bad sector ok", result.StdOut);
            Assert.Contains("Input/output error", said);
            Assert.Contains("capture exit 1", result.StdOut); // a backing failure is the run's failure
            Assert.Contains("fastlog capture: the backing store /dev/mapper/dusty failed", said);
            Assert.Contains($"read of 4096 bytes at byte {BadByte}: Input/output error", said);
            // Both writes are in the log, the one to the bad block too (a bad block fails reads only).
            string image = GuestVm.CreateSparseImage(Path.Combine(dir, "replayed.img"), DiskBytes);
            Shell.Check($"{FastlogBinary.Path} replay --log {log} --replay {image}");
            byte[] good = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("good\n", 820)))[..4096];
            using var replayed = File.OpenRead(image);
            foreach (long offset in new[] { 0, BadByte })
            {
                var block = new byte[4096];
                replayed.Position = offset;
                replayed.ReadExactly(block);
                Assert.True(block.AsSpan().SequenceEqual(good), $"the write at byte {offset} is not in the log");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
