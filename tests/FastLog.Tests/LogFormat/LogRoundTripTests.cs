using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.LogFormat;

public sealed class LogRoundTripTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public void WriterOutputMatchesHandBuiltLayoutBitForBit(int sectorSize)
    {
        byte[] a = LogBytes.Pattern(3 * sectorSize, 1), b = LogBytes.Pattern(sectorSize, 2), c = LogBytes.Pattern(2 * sectorSize, 3);
        string path = _dir.File("log");
        using (var writer = LogWriter.Create(path, sectorSize))
        {
            writer.AppendMark("mkfs");
            writer.AppendWrite(10, a);
            writer.AppendWrite(7, b, LogEntryFlags.Fua);
            writer.AppendDiscard(100, 64);
            writer.AppendFlush();
            writer.AppendWrite(3, c, LogEntryFlags.Metadata);
            writer.AppendWrite(0, b, LogEntryFlags.Flush | LogEntryFlags.Fua);
        }
        byte[] expected = new LogBytes(sectorSize)
            .Mark("mkfs").Write(10, a).Write(7, b, 2).Entry(100, 64, 4).Entry(0, 0, 1).Write(3, c, 16).Write(0, b, 3)
            .Mark(LogSuperBlock.EndMarkName).ToArray();
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData(512, false)]
    [InlineData(4096, false)]
    [InlineData(512, true)]
    [InlineData(4096, true)]
    public void ReaderReturnsEveryKindWithPayloadAndMarkNames(int sectorSize, bool readAhead)
    {
        byte[] big = LogBytes.Pattern(1 << 20, 4); // larger than the reader's window below: payload arrives in pieces
        byte[] small = LogBytes.Pattern(sectorSize, 5);
        string path = _dir.File("log");
        using (var writer = LogWriter.Create(path, sectorSize))
        {
            writer.AppendWrite(5, small, LogEntryFlags.Fua | LogEntryFlags.Metadata);
            writer.AppendDiscard(1, 2);
            writer.AppendMark("a-mark");
            writer.AppendWrite(99, big);
            writer.AppendFlush();
        }
        using var reader = LogReader.Open(path, new LogReaderOptions { BufferSize = 64 << 10, ReadAhead = readAhead });
        Assert.Equal(6, reader.DeclaredEntryCount);
        Assert.Equal(sectorSize, reader.SectorSize);
        var seen = new List<(LogEntry Entry, byte[] Payload)>();
        while (reader.TryReadNext(out LogEntry entry))
        {
            var payload = new byte[entry.PayloadLength];
            reader.CopyPayload(entry, payload);
            seen.Add((entry, payload));
        }
        Assert.Equal(6, seen.Count);
        Assert.Equal(new LogEntryHeader(5, 1, LogEntryFlags.Fua | LogEntryFlags.Metadata, 0), seen[0].Entry.Header);
        Assert.Equal(small, seen[0].Payload);
        Assert.Equal(LogEntryHeader.Discard(1, 2), seen[1].Entry.Header);
        Assert.Empty(seen[1].Payload);
        Assert.Equal(seen[1].Entry.HeaderOffset + sectorSize, seen[2].Entry.HeaderOffset); // a discard carries no data
        Assert.Equal("a-mark", seen[2].Entry.MarkName);
        Assert.Equal(big, seen[3].Payload);
        Assert.True(seen[4].Entry.Header.IsFlush);
        Assert.Equal(LogSuperBlock.EndMarkName, seen[5].Entry.MarkName);
        Assert.Equal(new FileInfo(path).Length, seen[5].Entry.NextOffset);
    }

    [Fact]
    public void SuperBlockIsUpdatedAtFuaAndMarkLikeTheKernel()
    {
        string path = _dir.File("log");
        var writer = LogWriter.Create(path, 512);
        writer.AppendWrite(0, new byte[512]);
        writer.AppendWrite(1, new byte[512], LogEntryFlags.Fua);
        writer.AppendWrite(2, new byte[512]);
        writer.Abandon(); // crash: nr_entries stays at the FUA
        using var reader = LogReader.Open(path);
        Assert.Equal(2, reader.DeclaredEntryCount);
    }

    [Fact]
    public void WriterRejectsPayloadThatIsNotWholeSectors()
    {
        using var writer = LogWriter.Create(_dir.File("log"), 4096);
        Assert.Throws<ArgumentException>(() => writer.AppendWrite(0, new byte[512]));
        Assert.Throws<ArgumentException>(() => writer.AppendMark(new string('x', 4096 - 32)));
    }
}
