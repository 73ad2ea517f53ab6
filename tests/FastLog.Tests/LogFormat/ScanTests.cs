using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.LogFormat;

/// <summary>A crash leaves nr_entries behind the entries logged; --scan recovers them.</summary>
public sealed class ScanTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string CrashedLog()
    {
        string path = _dir.File("log");
        var writer = LogWriter.Create(path, 512);
        writer.AppendWrite(0, new byte[512]);
        writer.AppendMark("checkpoint");          // nr_entries = 2 written here
        for (ulong i = 0; i < 5; i++)
            writer.AppendWrite(10 + i, LogBytes.Pattern(512, (int)i));
        writer.Abandon();                        // 5 entries past nr_entries, then end of file
        return path;
    }

    [Fact]
    public void WithoutScanTheReaderStopsAtNrEntries()
    {
        using var reader = LogReader.Open(CrashedLog());
        int n = 0;
        while (reader.TryReadNext(out _)) n++;
        Assert.Equal(2, n);
    }

    [Fact]
    public void ScanRecoversEntriesUpToTheEndOfTheFile()
    {
        LogIndex index = LogIndex.Build(CrashedLog(), scan: true);
        Assert.Equal(7, index.Count);
        Assert.Equal(5, index.RecoveredEntries);
        Assert.Equal(14UL, index[6].Sector);
        Assert.Null(index.Damage);
        Assert.Contains("end of file", index.ScanStopReason);
    }

    [Fact]
    public void ScanStopsAtTheFirstImplausibleHeader()
    {
        string path = CrashedLog();
        using (var stream = new FileStream(path, FileMode.Append))
            stream.Write(new byte[4096]); // zeroed, never-written log space
        LogIndex index = LogIndex.Build(path, scan: true);
        Assert.Equal(7, index.Count);
        Assert.Contains("all-zero header", index.ScanStopReason);
        Assert.Contains("entry 7", index.ScanStopReason);
    }

    [Fact]
    public void ScanChoiceIsPartOfTheSavedIndex()
    {
        string path = CrashedLog();
        Assert.Equal(2, LogIndexFile.OpenOrBuild(path).Count);
        LogIndex scanned = LogIndexFile.OpenOrBuild(path, scan: true);
        Assert.False(scanned.LoadedFromFile);
        Assert.Equal(7, scanned.Count);
    }
}
