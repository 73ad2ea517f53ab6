using System.Text.Json;
using FastLog.Cli.Commands;
using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary><c>inspect --json --entries</c> streams: no write to the output carries more than a small buffer.</summary>
public sealed class StreamingJsonTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Records the size of every write that reaches it, and keeps the bytes to parse afterwards.</summary>
    private sealed class RecordingStream : Stream
    {
        private readonly MemoryStream _bytes = new();
        public int LargestWrite { get; private set; }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            LargestWrite = Math.Max(LargestWrite, buffer.Length);
            _bytes.Write(buffer);
        }

        public byte[] ToArray() => _bytes.ToArray();
        public override long Length => _bytes.Length;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Position { get => _bytes.Length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    [Fact]
    public void EntriesAreWrittenAsTheyAreFormattedNotHeldUntilTheEnd()
    {
        string path = _dir.File("many.log");
        using (var writer = LogWriter.Create(path))
            for (int i = 0; i < 40_000; i++)
                writer.AppendFlush();
        LogIndex index = LogIndex.Build(path);
        var stream = new RecordingStream();

        using (var output = new StreamWriter(stream, leaveOpen: true))
            InspectJsonReport.Write(output, [index], listEntries: true);

        Assert.True(stream.Length > 4 << 20, $"only {stream.Length} bytes of JSON");
        Assert.True(stream.LargestWrite <= 2 * InspectJsonReport.FlushThreshold, $"one write of {stream.LargestWrite} bytes: the document was buffered");
        using var document = JsonDocument.Parse(stream.ToArray());
        Assert.Equal(40_001, document.RootElement.GetProperty("logs")[0].GetProperty("entryList").GetArrayLength());
    }
}
