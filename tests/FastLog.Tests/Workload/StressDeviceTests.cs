using FastLog.Capture;
using FastLog.Frontends;
using FastLog.Frontends.Fuse;
using FastLog.LogFormat;
using FastLog.Tests.Support;
using FastLog.Workload;

namespace FastLog.Tests.Workload;

/// <summary>
/// stress and verify on real ext4: on a loop device, and on FastLog's FUSE device with the capture log's
/// <c>stress:K</c> marks used to cut the device at a promise, the way the crash-state explorer will.
/// Stress and every tool run in child processes (never I/O on a FUSE-backed device from the serving process).
/// </summary>
[Collection("fuse")]
public class StressDeviceTests
{
    private static readonly string Fastlog = FastlogBinary.Path;
    private const long DeviceSize = 128L << 20;
    private const string StressShape = "--files 3 --file-size 512k --write-size 512-32k";

    [Fact]
    public void Stress_on_ext4_on_a_loop_device_holds_its_promises_after_umount_and_mount()
    {
        using var disk = new LoopImage(DeviceSize, "mkfs.ext4 -q -F");
        disk.Mount();
        string mnt = disk.MountPoint, device = disk.Device;
        string journal = disk.File("journal");
        string stress = Shell.Check($"{Fastlog} stress --dir {mnt} --journal {journal} {StressShape} --fdatasync --fsync-ratio 0.2 --ops 1500 --seed 3");
        Assert.Contains("done: 1500 writes", stress);
        Shell.Check($"umount {mnt} && mount {device} {mnt}");
        string verify = Shell.Check($"{Fastlog} verify --dir {mnt} --journal {journal}");
        Assert.Contains("verify: ok: 3 files", verify);
        StressJournal read = StressJournal.Open(journal);
        Assert.True(read.Promises > 200, verify);
        Assert.Equal(StressRecordKind.End, read.Ending?.Kind);
    }

    [Fact]
    public void Stress_on_the_fuse_device_marks_every_promise_in_the_log_and_verify_passes_after_remount()
    {
        using var dir = new TempDirectory();
        string log = RunOnFuseDevice(dir, $"--fsync-ratio 0.2 --ops 400 --seed 9", remountAndVerify: true);
        string journal = dir.File("run.journal");
        StressJournalRecord[] promises = StressFacts.Records(journal).Where(r => r.Kind == StressRecordKind.Promise).ToArray();
        Assert.True(promises.Length > 40, $"{promises.Length} promises");
        // stress:0 when the files exist, then stress:K after each promise K, in order, and nothing else of ours.
        long[] marks = Marks(log).Select(m => StressMarks.TryParse(m.Name, out long k) ? k : -1).ToArray();
        Assert.Equal(promises.Select(p => p.Sequence).Prepend(0), marks);
    }

    /// <summary>
    /// The broken workload is caught, the honest one is not, by the same procedure. The same seed gives both
    /// runs the same writes and the same promises; the broken one (--skip-fsync-every 3) leaves out the fsync of
    /// promises 3, 6, 9, ... but journals and marks them all the same. For promise K, the device is cut at the last
    /// FLUSH before the log's mark stress:K: the worst state a power cut at that mark may leave (every write not
    /// covered by a completed flush lost), and exactly what an honest fsync must survive, since its flush completed
    /// before stress marked the promise. That image is mounted (ext4 replays its journal) and verified with
    /// promises 1..K in force. Honest: passes at every K. Broken: at each skipped K the write the promise was about
    /// (the one just before it) never left the page cache, so verify reports it: that file, an offset inside that
    /// write. (Replaying only to the mark would be a weaker test: writes completed after the last flush would count
    /// as durable.)
    /// </summary>
    [Fact]
    public void A_promise_made_without_fsync_is_caught_at_the_last_flush_before_its_mark_and_an_honest_one_is_not()
    {
        const string workload = "--fsync-ratio 0.25 --ops 240 --seed 11";
        long[] skipped = [3, 6, 9];
        using var dir = new TempDirectory();
        string honestLog = RunOnFuseDevice(dir, workload, remountAndVerify: false, name: "honest");
        foreach (long k in skipped)
        {
            (int exit, string output) = VerifyAtLastFlushBeforeMark(dir, honestLog, dir.File("honest.journal"), k);
            Assert.True(exit == 0, $"honest workload, promise {k}: exit {exit}\n{output}");
        }

        string brokenLog = RunOnFuseDevice(dir, workload + " --skip-fsync-every 3", remountAndVerify: false, name: "broken");
        StressJournalRecord[] records = StressFacts.Records(dir.File("broken.journal"));
        foreach (long k in skipped)
        {
            StressJournalRecord promise = StressFacts.Promise(records, k);
            Assert.True(promise.Skipped);
            StressJournalRecord write = records.Single(r => r.Kind == StressRecordKind.Write && r.Sequence == promise.CoveredWrite);
            Assert.Equal(promise.File, write.File);
            (int exit, string output) = VerifyAtLastFlushBeforeMark(dir, brokenLog, dir.File("broken.journal"), k);
            Assert.True(exit == 1, $"broken workload, promise {k}: exit {exit}\n{output}");
            Assert.Contains($"{StressJournalHeader.FileName(write.File)}: promise {k} (writes up to {write.Sequence}, size ", output);
            Assert.Contains("its fsync skipped on purpose", output);
            // Some unit of the unsynced write is reported, with that write's version as the one allowed.
            long[] reported = System.Text.RegularExpressions.Regex.Matches(output,
                    $@"MISMATCH {StressJournalHeader.FileName(write.File)} offset (\d+) length (\d+): allowed version {write.Sequence}\b")
                .Select(m => long.Parse(m.Groups[1].Value)).ToArray();
            Assert.True(reported.Length > 0, $"promise {k}: write {write.Sequence} at {write.Offset}+{write.Length} not reported\n{output}");
            Assert.All(reported, offset => Assert.InRange(offset, write.Offset, write.Offset + write.Length - 1));
        }
    }

    /// <summary>
    /// The device dies under stress (the capture is SIGKILLed, so every request fails with EIO): stress stops at
    /// the first error on its own, says which operation on which file failed, journals a Stop record and exits 3.
    /// </summary>
    [Fact]
    public void Stress_stops_cleanly_at_the_first_io_error_says_where_and_exits_3()
    {
        using var dir = new TempDirectory();
        string backing = dir.Sparse("backing.img", DeviceSize);
        string mnt = Directory.CreateDirectory(dir.File("mnt")).FullName;
        string journal = dir.File("journal");
        Shell.Check($"setsid {Fastlog} capture --backing {backing} --log {dir.File("log")} --frontend fuse > {dir.File("device")} 2> {dir.File("capture.err")} & echo $! > {dir.File("capture.pid")}");
        string pid = File.ReadAllText(dir.File("capture.pid")).Trim();
        try
        {
            Assert.True(Eventually(() => File.ReadAllText(dir.File("device")).EndsWith('\n')), File.ReadAllText(dir.File("capture.err")));
            string device = File.ReadAllText(dir.File("device")).Trim();
            Shell.Check($"mkfs.ext4 -q -F {device} && mount {device} {mnt}");
            Shell.Check($"setsid bash -c '{Fastlog} stress --dir {mnt} --journal {journal} {StressShape} --fsync-ratio 0.5 --duration 60s > {dir.File("stress.out")} 2>&1; " +
                        $"echo $? > {dir.File("stress.rc")}' > /dev/null 2>&1 &");
            Assert.True(Eventually(() => File.Exists(journal) && StressJournal.Open(journal).Promises >= 20), "stress made no promises");
            Shell.Check($"kill -9 {pid}");
            Assert.True(Eventually(() => File.Exists(dir.File("stress.rc")) && File.ReadAllText(dir.File("stress.rc")).EndsWith('\n')),
                "stress did not stop after the device died");
            string output = File.ReadAllText(dir.File("stress.out"));
            Assert.True(File.ReadAllText(dir.File("stress.rc")).Trim() == "3", output);
            Assert.Matches(@"STOPPED at an I/O error: (write \d+ to \S+stress-\d{4} at offset \d+|(fsync|open) of \S+ for promise \d+) failed: ", output);
            StressJournal read = StressJournal.Open(journal);
            Assert.Null(read.Damage);
            Assert.Equal(StressRecordKind.Stop, read.Ending?.Kind);
            Assert.NotEqual(0, read.Ending!.Value.Errno);
        }
        finally
        {
            Shell.Run($"kill -9 {pid} 2>/dev/null; umount -l {mnt}");
            Eventually(() => !Directory.Exists($"/proc/{pid}")); // what a dead capture left is cleaned up once it is gone
            FastLog.Frontends.Fuse.FuseStateDirectory.CleanupStale(FastLog.Frontends.Fuse.FuseStateDirectory.DefaultRoot, null);
        }
    }

    private static bool Eventually(Func<bool> condition, int seconds = 30)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed.TotalSeconds < seconds; Thread.Sleep(50))
            if (condition())
                return true;
        return false;
    }

    /// <summary>
    /// Serves a sparse backing through LoggingBackend + FUSE in this process, with a mark server as capture has;
    /// mkfs, mount, <c>fastlog stress --mark-device</c>, umount (and optionally mount again and verify), stop.
    /// Returns the log path; the journal is NAME.journal.
    /// </summary>
    private static string RunOnFuseDevice(TempDirectory dir, string stressArguments, bool remountAndVerify, string name = "run")
    {
        string backing = dir.Sparse($"{name}.img", DeviceSize);
        string log = dir.File($"{name}.log");
        string journal = dir.File($"{name}.journal");
        string mnt = Directory.CreateDirectory(dir.File("mnt")).FullName;
        using (var backend = LoggingBackend.Open(backing, log))
        using (var frontend = new FuseFrontend(backend, new FrontendOptions()))
        {
            string device = frontend.Start();
            using (new MarkServer(device, backend.Mark))
            {
                Shell.Check($"mkfs.ext4 -q -F {device} && mount {device} {mnt}");
                try
                {
                    string stress = Shell.Check($"{Fastlog} stress --dir {mnt} --journal {journal} {StressShape} {stressArguments} --mark-device {device}");
                    Assert.Contains("done: ", stress);
                    if (remountAndVerify)
                    {
                        Shell.Check($"umount {mnt} && mount {device} {mnt}");
                        Assert.Contains("verify: ok", Shell.Check($"{Fastlog} verify --dir {mnt} --journal {journal}"));
                    }
                }
                finally
                {
                    Shell.Run($"umount {mnt}");
                }
            }
            frontend.Stop();
            Assert.Equal(0, frontend.Session!.UnexpectedErrors);
        }
        return log;
    }

    /// <summary>Replays <paramref name="log"/> onto a zeroed image up to and including the last FLUSH before the
    /// mark stress:K, mounts it and runs verify with promises 1..K in force; returns verify's exit and output.</summary>
    private static (int Exit, string Output) VerifyAtLastFlushBeforeMark(TempDirectory dir, string log, string journal, long k)
    {
        (string _, long markEntry, long lastFlush) = Marks(log).Single(m => m.Name == StressMarks.Name(k));
        Assert.True(lastFlush >= 0 && lastFlush < markEntry);
        string image = dir.File("crash.img");
        File.Delete(image);
        dir.Sparse("crash.img", DeviceSize);
        Shell.Check($"{Fastlog} replay --log {log} --replay {image} --limit {lastFlush + 1}");
        string mnt = Directory.CreateDirectory(dir.File("crash")).FullName;
        Shell.Check($"mount -o loop {image} {mnt}");
        try
        {
            return Shell.Run($"{Fastlog} verify --dir {mnt} --journal {journal} --up-to-promise {k}");
        }
        finally
        {
            Shell.Check($"umount {mnt}");
        }
    }

    /// <summary>Every mark in the log with its entry number and that of the last FLUSH before it (-1: none).</summary>
    private static List<(string Name, long Entry, long LastFlush)> Marks(string log)
    {
        var marks = new List<(string, long, long)>();
        using LogReader reader = LogReader.Open(log);
        long lastFlush = -1;
        while (reader.TryReadNext(out LogEntry entry))
        {
            if ((entry.Header.Flags & LogEntryFlags.Flush) != 0)
                lastFlush = entry.Index;
            if (entry.MarkName is { } name && StressMarks.TryParse(name, out _))
                marks.Add((name, entry.Index, lastFlush));
        }
        return marks;
    }
}
