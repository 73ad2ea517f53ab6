using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.LogFormat;

/// <summary>Every kind of damage is a LogFormatException naming the file, entry and byte offset.</summary>
public sealed class MalformedLogTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Save(byte[] bytes)
    {
        string path = _dir.File("bad.log");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static LogFormatException ReadAll(string path)
    {
        return Assert.Throws<LogFormatException>(() =>
        {
            using var reader = LogReader.Open(path);
            while (reader.TryReadNext(out _)) { }
        });
    }

    private static void AssertAt(LogFormatException e, string path, long entry, long offset, string words)
    {
        Assert.Equal(entry, e.Entry);
        Assert.Equal(offset, e.ByteOffset);
        Assert.Contains(path, e.Message);
        Assert.Contains($"entry {entry} at byte offset {offset}", e.Message);
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void TruncatedSuperBlock()
    {
        string path = Save(new LogBytes(512).ToArray()[..20]);
        var e = ReadAll(path);
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated super block", e.Message);
    }

    [Fact]
    public void SuperSectorCutShort()
    {
        string path = Save(new LogBytes(4096).ToArray()[..1000]);
        Assert.Contains("truncated super block", ReadAll(path).Message);
    }

    [Fact]
    public void WrongMagic() =>
        Assert.Contains("not a dm-log-writes log", ReadAll(Save(new LogBytes(512).ToArray(magic: 0x1234))).Message);

    [Fact]
    public void WrongVersion() =>
        Assert.Contains("unsupported dm-log-writes version 2", ReadAll(Save(new LogBytes(512).ToArray(version: 2))).Message);

    [Fact]
    public void PayloadRunsPastEndOfFile()
    {
        byte[] log = new LogBytes(512).Write(0, new byte[512]).Write(8, new byte[4096]).ToArray();
        string path = Save(log[..^100]);
        AssertAt(ReadAll(path), path, 1, 1536, "runs past end of file");
    }

    [Fact]
    public void HeaderRunsPastEndOfFile()
    {
        byte[] log = new LogBytes(512).Write(0, new byte[512]).ToArray();
        string path = Save(log); // nr_entries claims more entries than the file holds
        byte[] claimsTwo = new LogBytes(512).Write(0, new byte[512]).ToArray(nrEntries: 2);
        File.WriteAllBytes(path, claimsTwo);
        AssertAt(ReadAll(path), path, 1, 1536, "runs past end of file");
    }

    [Fact]
    public void AbsurdNrSectors()
    {
        string path = Save(new LogBytes(512).Write(0, new byte[512]).Entry(0, 1UL << 60, 0).ToArray());
        AssertAt(ReadAll(path), path, 1, 1536, "absurd nr_sectors");
    }

    [Fact]
    public void MarkNameWithoutTerminatorRoom()
    {
        string name = new('m', 512 - 32);
        string path = Save(new LogBytes(512).Entry(0, 0, 8, (ulong)name.Length, markName: name).ToArray());
        AssertAt(ReadAll(path), path, 0, 512, "no room for its terminator");
    }

    [Fact]
    public void UnknownFlags()
    {
        string path = Save(new LogBytes(512).Mark("x").Entry(0, 0, 1UL << 7).ToArray());
        AssertAt(ReadAll(path), path, 1, 1024, "unknown flags 0x80");
    }

    [Fact]
    public void AllZeroHeader()
    {
        string path = Save(new LogBytes(512).Mark("x").Entry(0, 0, 0).ToArray());
        AssertAt(ReadAll(path), path, 1, 1024, "all-zero header");
    }

    [Fact]
    public void NonMarkWithNonzeroByte32()
    {
        string path = Save(new LogBytes(512).Entry(0, 0, 1, byte32: 0xff).ToArray());
        AssertAt(ReadAll(path), path, 0, 512, "nonzero byte 32");
    }

    [Fact]
    public void IndexRecordsDamageInsteadOfThrowingAndKeepsTheGoodPrefix()
    {
        string path = Save(new LogBytes(512).Mark("good").Write(4, new byte[512]).Entry(0, 0, 0).Mark("after").ToArray());
        LogIndex index = LogIndex.Build(path);
        Assert.Equal(2, index.Count);
        Assert.NotNull(index.Damage);
        Assert.Equal(2, index.Damage!.Entry);
        index.ThrowIfDamaged(1); // before the damage: fine
        Assert.Throws<LogFormatException>(() => index.ThrowIfDamaged(2));
    }
}
