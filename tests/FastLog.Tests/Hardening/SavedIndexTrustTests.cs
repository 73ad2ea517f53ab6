using System.Buffers.Binary;
using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>
/// A saved index (LOG.flidx) never changes what a replay or inspect does: a stale or forged one is detected by
/// re-reading the log's headers and replaced by a fresh pass; hostile sizes in it cannot exhaust memory; saving
/// it never writes through a planted symlink and quietly does nothing in a read-only directory.
/// </summary>
public sealed class SavedIndexTrustTests : IDisposable
{
    // .flidx layout (LogIndexFile): magic, length, mtime, nr_entries (8 bytes each), sectorsize (4), scan flag (1),
    // entry count (4), then 32-byte entries: header offset, sector, nr_sectors (8 each), flags, epoch (4 each).
    private const int CountOffset = 37, EntriesOffset = 41, EntrySize = 32;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Writes of 4 sectors each at <paramref name="sectors"/>, then a mark; returns the log's path.</summary>
    private string WriteLog(string name, params ulong[] sectors)
    {
        string path = _dir.File(name);
        using var writer = LogWriter.Create(path);
        int seed = 0;
        foreach (ulong sector in sectors)
            writer.AppendWrite(sector, LogBytes.Pattern(2048, ++seed));
        writer.AppendMark("done");
        return path;
    }

    private string ReplayToImage(string log)
    {
        string target = _dir.File("target.img");
        File.WriteAllBytes(target, new byte[64 << 10]);
        (int code, _, string err) = HostileReplay.Run(log, target);
        Assert.True(code == 0, err);
        return Convert.ToHexString(File.ReadAllBytes(target));
    }

    /// <summary>Edits the saved index in place, keeping the log's size and mtime.</summary>
    private static void Forge(string log, Action<byte[]> edit)
    {
        string flidx = LogIndexFile.PathFor(log);
        byte[] bytes = File.ReadAllBytes(flidx);
        edit(bytes);
        File.WriteAllBytes(flidx, bytes);
    }

    private void AssertIndexIgnored(string log, string expectedImage)
    {
        LogIndex index = LogIndexFile.OpenOrBuild(log);
        Assert.False(index.LoadedFromFile);
        Assert.Equal(expectedImage, ReplayToImage(log));
    }

    [Fact]
    public void AStaleIndexOfAnotherLogWithTheSameSizeAndMtimeIsNotUsed()
    {
        string log = WriteLog("run.log", 0, 8, 16);
        string other = WriteLog("other.log", 40, 48, 56);
        string expected = ReplayToImage(other);
        ReplayToImage(log); // saves run.log.flidx
        DateTime mtime = File.GetLastWriteTimeUtc(log);
        File.Copy(other, log, overwrite: true);
        File.SetLastWriteTimeUtc(log, mtime);

        AssertIndexIgnored(log, expected);
    }

    [Fact]
    public void AnIndexRedirectingAWriteToAnotherSectorIsNotUsed()
    {
        string log = WriteLog("run.log", 0, 8, 16);
        string expected = ReplayToImage(log);
        Forge(log, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(EntriesOffset + EntrySize + 8), 100));

        AssertIndexIgnored(log, expected);
    }

    [Fact]
    public void AnIndexThatStopsEarlyWithoutDamageIsNotUsed()
    {
        string log = WriteLog("run.log", 0, 8, 16);
        string expected = ReplayToImage(log);
        LogIndex real = LogIndexFile.OpenOrBuild(log);
        var forged = new LogIndex(real.Header, real.Entries[..1].ToArray(), new Dictionary<int, string>());
        Assert.True(LogIndexFile.TrySave(forged)); // a well-formed index of the first entry only, no damage

        AssertIndexIgnored(log, expected);
    }

    [Theory]
    [InlineData("count", int.MaxValue)]
    [InlineData("count", -1)]
    [InlineData("markEntry", 1_000_000)]
    [InlineData("markCount", int.MaxValue)]
    [InlineData("offset", -4096)]
    [InlineData("epoch", 5)]
    public void HostileNumbersInTheIndexCauseAFreshPassNotACrash(string field, int value)
    {
        string log = WriteLog("run.log", 0, 8, 16);
        string expected = ReplayToImage(log);
        int marksAt = EntriesOffset + 5 * EntrySize; // 3 writes, "done", the end mark
        Forge(log, b =>
        {
            Span<byte> s = b;
            switch (field)
            {
                case "count": BinaryPrimitives.WriteInt32LittleEndian(s[CountOffset..], value); break;
                case "markCount": BinaryPrimitives.WriteInt32LittleEndian(s[marksAt..], value); break;
                case "markEntry": BinaryPrimitives.WriteInt32LittleEndian(s[(marksAt + 4)..], value); break;
                case "offset": BinaryPrimitives.WriteInt64LittleEndian(s[(EntriesOffset + EntrySize)..], value); break;
                case "epoch": BinaryPrimitives.WriteInt32LittleEndian(s[(EntriesOffset + EntrySize + 28)..], value); break;
            }
        });

        AssertIndexIgnored(log, expected);
    }

    [Fact]
    public void SavingNeverWritesThroughASymlinkPlantedAtTheOldTemporaryNameOrTheIndexName()
    {
        string log = WriteLog("run.log", 0);
        string victim = _dir.File("victim");
        File.WriteAllText(victim, "untouched");
        string flidx = LogIndexFile.PathFor(log);
        File.CreateSymbolicLink($"{flidx}.{Environment.ProcessId}.tmp", victim); // the name used before
        File.CreateSymbolicLink(flidx, victim);

        Assert.True(LogIndexFile.TrySave(LogIndex.Build(log)));

        Assert.Equal("untouched", File.ReadAllText(victim));
        Assert.False(new FileInfo(flidx).LinkTarget is not null, "the index replaced the symlink, not its target");
        Assert.True(LogIndexFile.OpenOrBuild(log).LoadedFromFile);
        Assert.Single(Directory.GetFiles(_dir.Path, "*.tmp")); // only the planted link: no temporary left behind
    }

    [Fact]
    public void InAReadOnlyDirectoryTheIndexIsNotSavedAndNothingFails()
    {
        string log = WriteLog("run.log", 0, 8);
        string expected = ReplayToImage(log);
        File.Delete(LogIndexFile.PathFor(log));
        Shell.Check($"mount --bind {_dir.Path} {_dir.Path} && mount -o remount,bind,ro {_dir.Path}");
        try
        {
            Assert.False(LogIndexFile.OpenOrBuild(log).LoadedFromFile);
            Assert.False(File.Exists(LogIndexFile.PathFor(log)));
            Assert.Equal(0, Shell.Run($"{FastlogBinary.Path} inspect {log}").Exit);
        }
        finally
        {
            Shell.Check($"umount {_dir.Path}");
        }
        Assert.Equal(expected, ReplayToImage(log));
    }
}
