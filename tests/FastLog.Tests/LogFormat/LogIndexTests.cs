using System.Runtime.CompilerServices;
using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.LogFormat;

public sealed class LogIndexTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>m0, w, w+FUA, FLUSH, discard, m1, w, FLUSH, w(FUA), m0 again, end mark.</summary>
    private string WriteSample(int sectorSize = 512)
    {
        string path = _dir.File("log");
        using var writer = LogWriter.Create(path, sectorSize);
        writer.AppendMark("m0");                                   // 0
        writer.AppendWrite(0, new byte[2 * sectorSize]);           // 1
        writer.AppendWrite(2, new byte[sectorSize], LogEntryFlags.Fua); // 2
        writer.AppendFlush();                                      // 3
        writer.AppendDiscard(50, 8);                               // 4
        writer.AppendMark("m1");                                   // 5
        writer.AppendWrite(9, new byte[3 * sectorSize]);           // 6
        writer.AppendFlush();                                      // 7
        writer.AppendWrite(1, new byte[sectorSize], LogEntryFlags.Fua); // 8
        writer.AppendMark("m0");                                   // 9
        return path;                                               // 10: dm-log-writes-end
    }

    [Fact]
    public void EntryIsThirtyTwoBytes() => Assert.Equal(32, Unsafe.SizeOf<LogIndexEntry>());

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public void OffsetsFlagsAndEpochsMatchASequentialRead(int sectorSize)
    {
        string path = WriteSample(sectorSize);
        LogIndex index = LogIndex.Build(path);
        using var reader = LogReader.Open(path);
        int i = 0;
        while (reader.TryReadNext(out LogEntry entry))
        {
            Assert.Equal(entry.HeaderOffset, index[i].HeaderOffset);
            Assert.Equal(entry.Header.Sector, index[i].Sector);
            Assert.Equal(entry.Header.NrSectors, index[i].NrSectors);
            Assert.Equal(entry.Header.Flags, index[i].Flags);
            Assert.Equal(entry.NextOffset, index[i].NextOffset(sectorSize));
            i++;
        }
        Assert.Equal(11, index.Count);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2], index.Entries.ToArray().Select(e => e.Epoch));
        Assert.Equal(3, index.EpochCount);
    }

    [Fact]
    public void FindsMarksAndFlagsFromAPosition()
    {
        LogIndex index = LogIndex.Build(WriteSample());
        Assert.Equal(0, index.FindMark("m0"));
        Assert.Equal(9, index.FindMark("m0", 1));
        Assert.Equal(5, index.FindMark("m1"));
        Assert.Equal(-1, index.FindMark("m1", 6));
        Assert.Equal(-1, index.FindMark("m"));
        Assert.Equal(10, index.FindMark(LogSuperBlock.EndMarkName));
        Assert.Equal(2, index.FindFlag(LogEntryFlags.Fua));
        Assert.Equal(8, index.FindFlag(LogEntryFlags.Fua, 3));
        Assert.Equal(3, index.FindFlag(LogEntryFlags.Flush, 3));
        Assert.Equal(7, index.FindFlag(LogEntryFlags.Flush | LogEntryFlags.Fua, 4));
        Assert.Equal(-1, index.FindFlag(LogEntryFlags.Fua, 9));
    }

    [Fact]
    public void SeekingWithTheIndexReadsTheSameEntry()
    {
        string path = WriteSample();
        LogIndex index = LogIndex.Build(path);
        using var reader = LogReader.Open(path);
        reader.SeekTo(6, index[6].HeaderOffset);
        Assert.True(reader.TryReadNext(out LogEntry entry));
        Assert.Equal(6, entry.Index);
        Assert.Equal(9UL, entry.Header.Sector);
    }

    [Fact]
    public void SavedIndexIsReusedThenRebuiltWhenTheLogChanges()
    {
        string path = WriteSample();
        LogIndex first = LogIndexFile.OpenOrBuild(path);
        Assert.False(first.LoadedFromFile);
        Assert.True(File.Exists(LogIndexFile.PathFor(path)));

        LogIndex second = LogIndexFile.OpenOrBuild(path);
        Assert.True(second.LoadedFromFile);
        Assert.Equal(first.Entries.ToArray().Select(e => (e.HeaderOffset, e.Sector, e.NrSectors, e.Flags, e.Epoch)),
            second.Entries.ToArray().Select(e => (e.HeaderOffset, e.Sector, e.NrSectors, e.Flags, e.Epoch)));
        Assert.Equal(9, second.FindMark("m0", 1));
        Assert.Equal(first.MarkNames, second.MarkNames);

        // Rewrite the log with one more entry: size, mtime and nr_entries all move.
        using (var writer = LogWriter.Create(path, 512))
        {
            writer.AppendMark("other");
        }
        LogIndex third = LogIndexFile.OpenOrBuild(path);
        Assert.False(third.LoadedFromFile);
        Assert.Equal(2, third.Count);
        Assert.Equal(0, third.FindMark("other"));
    }

    [Fact]
    public void StaleWhenOnlyTheSuperBlockCountChanges()
    {
        string path = WriteSample();
        DateTime mtime = File.GetLastWriteTimeUtc(path);
        Assert.Equal(11, LogIndexFile.OpenOrBuild(path).Count);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            stream.Position = 16;
            stream.Write(BitConverter.GetBytes(5UL));
        }
        File.SetLastWriteTimeUtc(path, mtime); // same size and mtime: only nr_entries tells
        LogIndex index = LogIndexFile.OpenOrBuild(path);
        Assert.False(index.LoadedFromFile);
        Assert.Equal(5, index.Count);
    }

    [Fact]
    public void RelativeLogPathIsIndexedAndSavedBesideTheLog()
    {
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, WriteSample());
        Assert.False(Path.IsPathRooted(relative));
        Assert.False(LogIndexFile.OpenOrBuild(relative).LoadedFromFile);
        Assert.True(File.Exists(_dir.File("log.flidx")));
        Assert.True(LogIndexFile.OpenOrBuild(relative).LoadedFromFile);
    }

    [Fact]
    public void CorruptIndexFileIsRebuilt()
    {
        string path = WriteSample();
        LogIndexFile.OpenOrBuild(path);
        File.WriteAllBytes(LogIndexFile.PathFor(path), [1, 2, 3]);
        LogIndex index = LogIndexFile.OpenOrBuild(path);
        Assert.False(index.LoadedFromFile);
        Assert.Equal(11, index.Count);
    }
}
