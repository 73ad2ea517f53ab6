using FastLog.Replay;

namespace FastLog.Tests.Replay;

/// <summary>replay-log's start and stop conditions, find output and informational modes.</summary>
public sealed class ReplaySemanticsTests : IDisposable
{
    private readonly ReplayScenario _s = ReplayScenario.Standard();

    public void Dispose() => _s.Dispose();

    private void AssertReplays(ReplayOptions options, int first, int last)
    {
        var (code, _, err, replayer) = _s.Run(options);
        Assert.True(code == 0, err);
        Assert.Equal(last - first + 1, replayer.EntriesReplayed);
        Assert.Equal(_s.Expected(first, last), _s.Target());
    }

    [Fact] public void WholeLog() => AssertReplays(_s.Options, 0, 13);
    [Fact] public void LimitCountsFromEntryZero() => AssertReplays(_s.Options with { Limit = 3 }, 0, 2);
    [Fact] public void StartEntryAndLimit() => AssertReplays(_s.Options with { StartEntry = 5, Limit = 3 }, 5, 7);
    [Fact] public void StartMarkStartsAfterTheMark() => AssertReplays(_s.Options with { StartMark = "m1" }, 7, 13);
    [Fact] public void EndMarkIsInclusive() => AssertReplays(_s.Options with { EndMark = "m2" }, 0, 11);
    [Fact] public void NextFuaFromAnEntry() => AssertReplays(_s.Options with { StartEntry = 4, NextFua = true }, 4, 10);
    [Fact] public void NextFlush() => AssertReplays(_s.Options with { NextFlush = true }, 0, 4);
    [Fact] public void NextFuaOrFlushWhicheverComesFirst() => AssertReplays(_s.Options with { StartEntry = 5, NextFua = true, NextFlush = true }, 5, 9);
    [Fact] public void LimitBeforeTheMark() => AssertReplays(_s.Options with { EndMark = "m2", Limit = 2 }, 0, 1);

    [Fact] // should_stop demands MARK and the name once an end mark is given, so FUA entries do not stop
    public void EndMarkMakesNextFuaInert() => AssertReplays(_s.Options with { EndMark = "m2", NextFua = true }, 0, 11);

    [Fact]
    public void StartMarkOnTheLastEntryReplaysNothing()
    {
        var (code, _, _, replayer) = _s.Run(_s.Options with { StartMark = "dm-log-writes-end" });
        Assert.Equal(0, code);
        Assert.Equal(0, replayer.EntriesReplayed);
        Assert.Equal(_s.Expected(0, -1), _s.Target());
    }

    [Theory]
    [InlineData("m1", 6)]
    [InlineData("mkfs", 0)]
    [InlineData("dm-log-writes-end", 13)]
    public void FindPrintsEntryAndLogSectorPastIt(string mark, int entry)
    {
        var (code, output, _, _) = _s.Run(new ReplayOptions { LogPath = _s.LogPath, Find = true, EndMark = mark });
        Assert.Equal(0, code);
        Assert.Equal($"{entry}@{_s.LogSectorAfter(entry)}\n", output);
    }

    [Fact]
    public void FindNextFuaFromAStartEntry()
    {
        var (_, output, _, _) = _s.Run(new ReplayOptions { LogPath = _s.LogPath, Find = true, NextFua = true, StartEntry = 4 });
        Assert.Equal($"10@{_s.LogSectorAfter(10)}\n", output);
    }

    [Fact]
    public void FindReplaysNothing()
    {
        _s.Run(_s.Options with { Find = true, EndMark = "m2" });
        Assert.Equal(_s.Expected(0, -1), _s.Target());
    }

    [Theory]
    [InlineData("nope", false)]
    [InlineData(null, false)] // no stop condition at all: replay-log never matches
    [InlineData("mkfs", true)] // mkfs lies before the start entry
    public void FindWithoutMatchSaysSoAndExits1(string? mark, bool startLate)
    {
        var (code, output, error, _) = _s.Run(new ReplayOptions { LogPath = _s.LogPath, Find = true, EndMark = mark, StartEntry = startLate ? 1UL : 0 });
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal("Couldn't find entry\n", error);
    }

    [Fact]
    public void UnknownStartMark()
    {
        var (code, _, error, _) = _s.Run(_s.Options with { StartMark = "nope" });
        Assert.Equal(1, code);
        Assert.Equal("Couldn't find starting mark\n", error);
    }

    [Fact]
    public void StartEntryPastTheEnd()
    {
        var (code, _, error, _) = _s.Run(_s.Options with { StartEntry = 14 });
        Assert.Equal(1, code);
        Assert.Equal("Invalid entry number\n", error);
    }

    [Fact]
    public void InfoLineWithoutReplay()
    {
        var (code, output, _, _) = _s.Run(new ReplayOptions { LogPath = _s.LogPath });
        Assert.Equal(0, code);
        Assert.Equal("Log version=1, sectorsize=512, entries=14\n", output);
    }

    [Fact]
    public void NumEntries()
    {
        var (_, output, _, _) = _s.Run(_s.Options with { PrintEntryCount = true });
        Assert.Equal("14\n", output);
        Assert.Equal(_s.Expected(0, -1), _s.Target());
    }

    [Fact]
    public void VerboseLinesHaveReplayLogsFormat()
    {
        var (_, output, _, _) = _s.Run(_s.Options with { Limit = 4, Verbosity = 1 });
        Assert.Equal(
            "replaying 0@2: sector 0, size 0, flags 0x8(MARK)\n" +
            "replaying 1@3: sector 0, size 4096, flags 0x0(NONE)\n" +
            "replaying 2@12: sector 8, size 4096, flags 0x0(NONE)\n" +
            "replaying 3@21: sector 16, size 4096, flags 0x2(FUA)\n", output);
    }

    [Fact]
    public void SectorRangeSkipsWritesButStillAppliesDiscards()
    {
        var (code, output, _, _) = _s.Run(_s.Options with { StartSector = 8, EndSector = 15, Verbosity = 2 });
        Assert.Equal(0, code);
        Assert.Equal(_s.Expected(0, 13, startSector: 8, endSector: 15), _s.Target());
        Assert.Contains("skipping 1@3: sector 0, size 4096, flags 0x0(NONE)\n", output);
        Assert.Contains("replaying 2@12: sector 8, size 4096, flags 0x0(NONE)\n", output);
        Assert.Contains("skipping 5@", output); // the discard is reported skipped, yet applied (the quirk)
        Assert.Equal(new byte[4096], _s.Target()[..4096]);
    }

    [Fact]
    public void ReplayOntoAMissingTargetFails()
    {
        var (code, _, error, _) = _s.Run(_s.Options with { ReplayPath = _s.File("absent.img") });
        Assert.Equal(1, code);
        Assert.StartsWith("Couldn't open replay file", error);
    }
}
