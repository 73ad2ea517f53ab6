using FastLog.Backends;
using FastLog.Capture;
using FastLog.LogFormat;
using FastLog.Replay;
using FastLog.Tests.Support;

namespace FastLog.Tests.Capture;

/// <summary>A FLUSH whose backing flush fails is in the log (it entered on arrival) but is no durability point.</summary>
public class FailedFlushTests
{
    /// <summary>Memory whose flush fails with EIO while <see cref="FailFlush"/> is set.</summary>
    internal sealed class FlakyFlushBackend(long size) : IBlockBackend
    {
        private readonly MemoryBackend _memory = new(size);
        public bool FailFlush { get; set; }
        public long Size => _memory.Size;
        public DeviceCapabilities Capabilities => _memory.Capabilities;
        public int Read(long offset, Span<byte> destination) => _memory.Read(offset, destination);
        public int Write(long offset, ReadOnlySpan<byte> source, bool fua) => _memory.Write(offset, source, fua);
        public int Flush() => FailFlush ? -5 : 0;
        public int Discard(long offset, long length) => _memory.Discard(offset, length);
        public int WriteZeroes(long offset, long length) => _memory.WriteZeroes(offset, length);
        public void Dispose() => _memory.Dispose();
    }

    [Fact]
    public void A_failed_flush_is_voided_for_next_flush_epochs_checks_and_statistics()
    {
        using var dir = new TempDirectory();
        string logPath = dir.File("log");
        var inner = new FlakyFlushBackend(1 << 20);
        var block = new byte[4096];
        using (var device = new LoggingBackend(inner, CaptureLog.Create(logPath, 512)))
        {
            Assert.Equal(0, device.Write(0, block, fua: false));      // entry 1 (entry 0 is the size mark)
            Assert.Equal(0, device.Flush());                          // entry 2: a durability point
            Assert.Equal(0, device.Write(4096, block, fua: false));   // entry 3
            inner.FailFlush = true;
            Assert.Equal(-5, device.Flush());                         // entry 4, then its flush-failed mark (entry 5)
            inner.FailFlush = false;
            Assert.Equal(0, device.Write(8192, block, fua: false));   // entry 7
            Assert.Equal(0, device.Flush());                          // entry 6
        }
        LogIndex index = LogIndex.Build(logPath);
        Assert.True(index[4].Flags.HasFlag(LogEntryFlags.Flush)); // the raw entry stays as the kernel would write it
        Assert.True(FailedFlushMark.TryParse(index.MarkNameAt(5)!, out long offset));
        Assert.Equal(index[4].HeaderOffset, offset);

        Assert.Equal([2, 7], index.Flushes.ToArray());
        Assert.Equal([4], index.FailedFlushes.ToArray());
        Assert.Equal(LogEntryFlags.None, index.CompletedFlags(4) & LogEntryFlags.Flush);
        Assert.Equal(1, index[6].Epoch); // the failed flush closed no epoch
        Assert.Equal(3, index.EpochCount);
        var afterFirst = new ReplayOptions { LogPath = logPath, NextFlush = true };
        Assert.Equal(7, ReplayStop.Find(index, afterFirst, start: 3, index.Count));
        Assert.False(new ReplayCheck(ReplayCheckMode.Flush).IsDue(1, index.CompletedFlags(4)));
        LogStatistics stats = LogStatistics.Of(index);
        Assert.Equal(2, stats.Flushes);
        Assert.Equal(1, stats.FailedFlushes);
        Assert.Equal(3, stats.Epochs);
    }

    [Fact]
    public void Replay_next_flush_skips_a_failed_flush()
    {
        using var dir = new TempDirectory();
        string logPath = dir.File("log");
        var inner = new FlakyFlushBackend(1 << 20);
        using (var device = new LoggingBackend(inner, CaptureLog.Create(logPath, 512)))
        {
            device.Write(0, new byte[512], fua: false);
            inner.FailFlush = true;
            Assert.Equal(-5, device.Flush());
        }
        (int exit, string output) = Shell.Run($"{FastlogBinary.Path} replay --log {logPath} --find --next-flush");
        Assert.NotEqual(0, exit); // the only FLUSH failed: there is no next flush
        Assert.Contains("Couldn't find entry", output);
    }
}
