using System.Runtime.InteropServices;
using FastLog.LogFormat;
using FastLog.Replay;
using FastLog.Tests.Support;

namespace FastLog.Tests.Replay;

/// <summary>What replay does to the target: holes for discards, coalesced writes, fsck hooks, damage.</summary>
public sealed partial class ReplayTargetTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [DllImport("libc", SetLastError = true)]
    private static extern long lseek(int fd, long offset, int whence);
    private const int SeekData = 3, SeekHole = 4;

    private static long Seek(string path, long offset, int whence)
    {
        using var handle = File.OpenHandle(path);
        return lseek((int)handle.DangerousGetHandle(), offset, whence);
    }

    [Fact]
    public void DiscardPunchesAHoleInARegularFile()
    {
        using var s = new ReplayScenario(4096, [new("W", 0, 64), new("D", 16, 16)]);
        var (code, _, err, _) = s.Run(s.Options);
        Assert.True(code == 0, err);
        byte[] image = s.Target();
        Assert.Equal(s.Expected(0, 2), image);
        Assert.All(image[(16 * 4096)..(32 * 4096)], b => Assert.Equal(0, b));
        Assert.Equal(16 * 4096, Seek(s.TargetPath, 0, SeekHole));  // the discarded range is a hole...
        Assert.Equal(32 * 4096, Seek(s.TargetPath, 16 * 4096, SeekData)); // ...and data resumes after it
    }

    [Fact]
    public void NoDiscardLeavesTheDataInPlace()
    {
        using var s = new ReplayScenario(4096, [new("W", 0, 64), new("D", 16, 16)]);
        s.Run(s.Options with { NoDiscard = true });
        Assert.Equal(s.Expected(0, 2, noDiscard: true), s.Target());
        Assert.True(Seek(s.TargetPath, 0, SeekHole) >= 64 * 4096);
    }

    [Fact]
    public void ContiguousWritesAreCoalescedIntoFewLargeWrites()
    {
        var steps = Enumerable.Range(0, 16).Select(i => new ReplayScenario.Step("W", (ulong)i * 128, 128)).ToList(); // 16 × 64 KiB
        using var s = new ReplayScenario(512, steps);
        var (code, _, _, replayer) = s.Run(s.Options);
        Assert.Equal(0, code);
        Assert.Equal(s.Expected(0, 16), s.Target());
        Assert.Equal(1, replayer.WriteCalls);
        Assert.Equal(1L << 20, replayer.BytesWritten);
    }

    [Fact]
    public void OverlappingWritesKeepLogOrder()
    {
        using var s = new ReplayScenario(512, [new("W", 0, 8), new("W", 8, 8), new("W", 4, 8), new("W", 0, 2)]);
        s.Run(s.Options);
        Assert.Equal(s.Expected(0, 4), s.Target());
    }

    [Fact]
    public void FailingFsckStopsWithReplayLogsMessage()
    {
        using var s = ReplayScenario.Standard();
        var (code, _, error, replayer) = s.Run(s.Options with { StartEntry = 3, FsckCommand = "exit 3", Check = new ReplayCheck(ReplayCheckMode.EveryN, 2) });
        Assert.Equal(1, code);
        Assert.Equal("Fsck errored out on entry 4\n", error);
        Assert.Equal(2, replayer.EntriesReplayed);
        Assert.Equal(s.Expected(3, 4), s.Target());
    }

    [Fact]
    public void FsckRunsAfterEachFuaAndSeesTheReplayedData()
    {
        using var s = ReplayScenario.Standard();
        string counter = s.File("count"), snapshot = s.File("snap");
        var (code, _, err, _) = s.Run(s.Options with
        {
            FsckCommand = $"echo x >> '{counter}'; cp '{s.TargetPath}' '{snapshot}'",
            Check = new ReplayCheck(ReplayCheckMode.Fua),
            NextFlush = true, StartEntry = 5,
        });
        Assert.True(code == 0, err);
        Assert.False(File.Exists(counter)); // entries 5..9 hold no FUA
        File.WriteAllBytes(s.TargetPath, Enumerable.Repeat(ReplayScenario.Fill, ReplayScenario.TargetSize).ToArray());
        s.Run(s.Options with { FsckCommand = $"echo x >> '{counter}'; cp '{s.TargetPath}' '{snapshot}'", Check = new ReplayCheck(ReplayCheckMode.Fua), Limit = 4 });
        Assert.Single(File.ReadAllLines(counter)); // entry 3
        Assert.Equal(s.Expected(0, 3), File.ReadAllBytes(snapshot)); // taken after entry 3, the FUA write, was synced
    }

    [Fact]
    public void FsckSnapshotAtAFlushHoldsExactlyThePrefix()
    {
        using var s = ReplayScenario.Standard();
        string snapshot = s.File("snap");
        var (code, _, err, _) = s.Run(s.Options with { FsckCommand = $"cp '{s.TargetPath}' '{snapshot}'", Check = new ReplayCheck(ReplayCheckMode.Flush), Limit = 5 });
        Assert.True(code == 0, err);
        Assert.Equal(s.Expected(0, 4), File.ReadAllBytes(snapshot)); // pending coalesced writes were flushed first
    }

    [Fact]
    public void DiscardCheckMode()
    {
        using var s = ReplayScenario.Standard();
        var (code, _, error, _) = s.Run(s.Options with { FsckCommand = "false", Check = new ReplayCheck(ReplayCheckMode.Discard) });
        Assert.Equal(1, code);
        Assert.Equal("Fsck errored out on entry 5\n", error);
    }

    [Fact]
    public void DamagedEntryStopsTheReplayWithItsPosition()
    {
        string log = _dir.File("bad.log");
        byte[] data = LogBytes.Pattern(1024, 9);
        File.WriteAllBytes(log, new LogBytes(512).Write(0, data).Write(2, data).Entry(0, 0, 0).Write(4, data).ToArray());
        string target = _dir.File("img");
        File.WriteAllBytes(target, new byte[8192]);
        var error = new StringWriter();
        int code = new LogReplayer(new ReplayOptions { LogPath = log, ReplayPath = target }, new StringWriter(), error).Run();
        Assert.Equal(1, code);
        Assert.Contains("entry 2 at byte offset 3584", error.ToString());
        Assert.Contains("all-zero header", error.ToString());
        Assert.Equal(data, File.ReadAllBytes(target)[1024..2048]); // entries before the damage were replayed
    }

    [Fact]
    public void ScanReplaysEntriesPastAStaleCount()
    {
        string log = _dir.File("crash.log");
        var writer = LogWriter.Create(log, 512);
        writer.AppendMark("m");
        byte[] late = LogBytes.Pattern(512, 3);
        writer.AppendWrite(7, late);
        writer.Abandon();
        string target = _dir.File("img");
        File.WriteAllBytes(target, new byte[8192]);
        var error = new StringWriter();
        Assert.Equal(0, new LogReplayer(new ReplayOptions { LogPath = log, ReplayPath = target }, new StringWriter(), error).Run());
        Assert.Equal(new byte[512], File.ReadAllBytes(target)[3584..4096]);
        Assert.Equal(0, new LogReplayer(new ReplayOptions { LogPath = log, ReplayPath = target, Scan = true }, new StringWriter(), error).Run());
        Assert.Equal(late, File.ReadAllBytes(target)[3584..4096]);
        Assert.Contains("recovered 1 more entries", error.ToString());
    }

    [Fact]
    public void TargetWritesSpansInOrderAndCoalescesAcrossBufferBoundaries()
    {
        string path = _dir.File("img");
        File.WriteAllBytes(path, []);
        byte[] a = LogBytes.Pattern(300_000, 1), b = LogBytes.Pattern(4096, 2);
        using (var target = ReplayTarget.Open(path, bufferSize: 1 << 16))
        {
            target.Write(0, a);            // spans several 64 KiB buffers
            target.Write(a.Length, b);     // continues the run
            target.Write(8192, b);         // goes back: must land after the first write
            target.Sync();
            Assert.Equal(300_000 + 4096 + 4096, target.BytesWritten);
        }
        byte[] expected = [.. a, .. b];
        b.CopyTo(expected, 8192);
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void ScanDoesNotHideDamageInsideTheDeclaredEntries()
    {
        string log = _dir.File("bad.log");
        byte[] data = LogBytes.Pattern(512, 9);
        File.WriteAllBytes(log, new LogBytes(512).Write(0, data).Entry(0, 0, 1UL << 9).Write(1, data).ToArray());
        string target = _dir.File("img");
        File.WriteAllBytes(target, new byte[4096]);
        var error = new StringWriter();
        int code = new LogReplayer(new ReplayOptions { LogPath = log, ReplayPath = target, Scan = true }, new StringWriter(), error).Run();
        Assert.Equal(1, code);
        Assert.Contains("entry 1 at byte offset 1536", error.ToString());
    }

    [Fact]
    public void CNumberReadsLikeStrtoull()
    {
        Assert.True(CNumber.TryParse("0x10", out ulong hex)); Assert.Equal(16UL, hex);
        Assert.True(CNumber.TryParse("010", out ulong octal)); Assert.Equal(8UL, octal);
        Assert.True(CNumber.TryParse("42", out ulong dec)); Assert.Equal(42UL, dec);
        Assert.False(CNumber.TryParse("12abc", out _));
        Assert.False(CNumber.TryParse("", out _));
        Assert.False(ReplayCheck.TryParse("0", out _));
        Assert.True(ReplayCheck.TryParse("fua", out ReplayCheck fua)); Assert.Equal(ReplayCheckMode.Fua, fua.Mode);
    }
}
