using System.Buffers.Binary;
using System.Diagnostics;
using FastLog.Backends;
using FastLog.Capture;
using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.Capture;

public sealed class CaptureLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fastlog-capture-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string NewBacking(long size)
    {
        string path = Path.Combine(_dir, $"backing-{Guid.NewGuid():N}.img");
        using (var f = File.Create(path)) f.SetLength(size);
        return path;
    }

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public void Concurrent_writers_land_in_the_log_whole_and_in_each_threads_order(int sectorSize)
    {
        string log = Path.Combine(_dir, "log");
        const int threads = 4, writesPerThread = 400;
        var backend = LoggingBackend.Open(NewBacking(64 << 20), log, sectorSize, new CaptureLogOptions { RingBytes = 1 << 18, WakeBytes = 1 << 16 });
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var data = new byte[sectorSize * 8];
            for (int i = 0; i < writesPerThread; i++)
            {
                int blocks = 1 + i % 8;
                Span<byte> payload = data.AsSpan(0, blocks * sectorSize);
                Fill(payload, t, i);
                long offset = (long)(t * writesPerThread + i) * sectorSize * 8;
                Assert.Equal(0, backend.Write(offset, payload, fua: i % 50 == 49));
                if (i % 25 == 0) Assert.Equal(0, backend.Flush());
            }
        });
        Assert.Equal(0, backend.Mark("done"));
        backend.Dispose();

        var (super, entries) = TestLog.ReadAll(log);
        Assert.Equal((uint)sectorSize, super.SectorSize);
        Assert.Equal((ulong)entries.Count, super.EntryCount);
        Assert.Equal(LogSuperBlock.EndMarkName, entries[^1].MarkName);
        Assert.Equal("done", entries[^2].MarkName);
        var nextIndex = new int[threads];
        var expected = new byte[sectorSize * 8];
        foreach (var e in entries.Where(e => !e.Header.IsMark && !e.Header.IsFlush))
        {
            long index = (long)e.Header.Sector / 8;
            int t = (int)(index / writesPerThread), i = (int)(index % writesPerThread);
            Assert.Equal(nextIndex[t]++, i); // a thread's writes complete one after another, so they log in that order
            Assert.Equal((ulong)(1 + i % 8), e.Header.NrSectors);
            Assert.Equal(i % 50 == 49, e.Header.IsFua);
            Fill(expected.AsSpan(0, e.Payload.Length), t, i);
            Assert.True(e.Payload.AsSpan().SequenceEqual(expected.AsSpan(0, e.Payload.Length)), $"payload of thread {t} write {i}");
        }
        Assert.All(nextIndex, n => Assert.Equal(writesPerThread, n));
        Assert.Equal(threads * (writesPerThread / 25), entries.Count(e => e.Header.IsFlush));
    }

    [Fact]
    public void A_flush_covers_exactly_the_writes_that_completed_before_it()
    {
        string log = Path.Combine(_dir, "log");
        var backend = LoggingBackend.Open(NewBacking(1 << 20), log);
        var block = new byte[512];
        block[0] = 1; backend.Write(0, block, false);
        backend.Flush();
        block[0] = 2; backend.Write(512, block, false);
        backend.Discard(4096, 8192);
        backend.WriteZeroes(16384, 1024);
        backend.Dispose();

        var (_, entries) = TestLog.ReadAll(log);
        string[] kinds = entries.Select(e => e.Header.IsMark ? "M" : e.Header.IsFlush ? "F" : e.Header.IsDiscard ? "D" : "W").ToArray();
        Assert.Equal(["M", "W", "F", "W", "D", "W", "M"], kinds); // first the size mark
        Assert.Equal(CaptureLog.SizeMarkPrefix + (1 << 20), entries[0].MarkName);
        Assert.Equal((8UL, 16UL), (entries[4].Header.Sector, entries[4].Header.NrSectors));
        Assert.Empty(entries[4].Payload); // a DISCARD carries no data
        Assert.Equal((32UL, 2UL), (entries[5].Header.Sector, entries[5].Header.NrSectors));
        Assert.All(entries[5].Payload, b => Assert.Equal(0, b)); // WRITE_ZEROES is logged as the zeros it leaves
    }

    [Theory]
    [InlineData(LogDurability.Durable)]
    [InlineData(LogDurability.Written)]
    public void When_flush_returns_the_log_on_disk_already_holds_it(LogDurability durability)
    {
        string log = Path.Combine(_dir, "log");
        var options = new CaptureLogOptions { WriterInterval = TimeSpan.FromSeconds(10), FlushWaitsFor = durability };
        var backend = LoggingBackend.Open(NewBacking(1 << 20), log, 512, options);
        var block = new byte[4096];
        Array.Fill(block, (byte)0xAB);
        backend.Write(8192, block, false);
        Assert.Equal(0, backend.Flush());
        // Read through another descriptor while the device is still open: the size mark, the write's header and
        // payload, then the FLUSH entry.
        byte[] onDisk = File.ReadAllBytes(log);
        var first = LogEntryHeader.ReadFrom(onDisk.AsSpan(1024));
        Assert.Equal((16UL, 8UL), (first.Sector, first.NrSectors));
        Assert.True(onDisk.AsSpan(1536, 4096).SequenceEqual(block));
        Assert.True(LogEntryHeader.ReadFrom(onDisk.AsSpan(1536 + 4096)).IsFlush);
        long flushEnd = 1536 + 4096 + 512;
        Assert.True(durability == LogDurability.Durable ? backend.Log.DurableUntil >= flushEnd : backend.Log.WrittenUntil >= flushEnd);
        backend.Dispose();
    }

    [Fact]
    public void With_ordered_durability_a_flush_waits_for_nothing_in_the_log_and_a_clean_close_still_has_it_all()
    {
        string log = Path.Combine(_dir, "log");
        var options = new CaptureLogOptions
        {
            WriterInterval = TimeSpan.FromSeconds(30), SuperBlockInterval = TimeSpan.FromSeconds(30), WakeBytes = 32 << 20,
            FlushWaitsFor = LogDurability.Ordered,
        };
        var backend = LoggingBackend.Open(NewBacking(1 << 20), log, 512, options);
        var block = new byte[4096];
        Array.Fill(block, (byte)0xCD);
        Assert.Equal(0, backend.Write(8192, block, fua: false));
        Assert.Equal(0, backend.Flush());
        Assert.Equal(0, backend.Write(0, block, fua: true));
        Assert.True(backend.Log.WrittenUntil < 1536 + 4096 + 512, "the flush waited for the log"); // the writer sleeps 30 s
        backend.Dispose();
        List<TestLog.Entry> entries = TestLog.ReadAll(log).Entries;
        Assert.Equal(["mark", "write", "flush", "write+fua", "mark"],
            entries.Select(e => e.Header.IsMark ? "mark" : e.Header.IsFlush ? "flush" : e.Header.IsFua ? "write+fua" : "write"));
    }

    [Theory]
    [InlineData(LogDurability.Durable, false)]
    [InlineData(LogDurability.Written, false)]
    [InlineData(LogDurability.Durable, true)]
    [InlineData(LogDurability.Written, true)]
    public void Flushing_threads_drive_the_log_themselves_while_the_writer_competes_for_it(LogDurability durability, bool logOnBlockDevice)
    {
        // Every flush waiter submits and reaps the log's I/O itself under the appender lock, while the writer thread
        // (waking every millisecond and at every 4 KiB) tries to do the same: thousands of hand-overs, each of
        // which must leave the log written (or durable) up to the flush, with the durable address never past the
        // written one, and the log whole afterwards. A durable log on a block device is written through (O_DSYNC,
        // no fdatasync); everything else is written, then fdatasync'd.
        using LoopImage? loop = logOnBlockDevice ? LoopImage.Attach(NewBacking(64 << 20)) : null;
        string log = loop?.Device ?? Path.Combine(_dir, "log");
        string backing = NewBacking(16 << 20);
        const int threads = 4, flushesPerThread = 1000;
        var options = new CaptureLogOptions { WriterInterval = TimeSpan.FromMilliseconds(1), WakeBytes = 4096, FlushWaitsFor = durability };
        var backend = LoggingBackend.Open(backing, log, 512, options);
        bool writeThrough = logOnBlockDevice && durability == LogDurability.Durable;
        Assert.Equal(writeThrough, backend.Log.IsWriteThrough);
        Assert.Equal(writeThrough, OpenedWithDsync(log));
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var data = new byte[4096];
            for (int i = 0; i < flushesPerThread; i++)
            {
                Array.Fill(data, (byte)(t * 64 + i % 64));
                Assert.Equal(0, backend.Write((t * flushesPerThread + i) % 4096 * 4096L, data, false));
                long end = backend.Log.AppendFlush();
                Assert.True(end > 0);
                backend.Log.Request(end, durability);
                Assert.Equal(0, backend.Log.WaitFor(end, durability));
                long written = backend.Log.WrittenUntil, durable = backend.Log.DurableUntil;
                Assert.True((durability == LogDurability.Durable ? durable : written) >= end);
                Assert.True(durable <= backend.Log.WrittenUntil, $"durable {durable} is past written {backend.Log.WrittenUntil}");
            }
        });
        Assert.Equal(0, backend.Log.Failure);
        backend.Dispose();
        var (super, entries) = TestLog.ReadAll(log);
        Assert.Equal((ulong)entries.Count, super.EntryCount);
        Assert.Equal(threads * flushesPerThread, entries.Count(e => e.Header.IsFlush));
        Assert.Equal(File.ReadAllBytes(backing), TestLog.ReplayOnto(entries, 16 << 20));
    }

    [Theory]
    [InlineData(LogDurability.Written)]
    [InlineData(LogDurability.Ordered)]
    public void Below_durable_the_log_is_still_synced_and_nr_entries_refreshed_while_running(LogDurability durability)
    {
        // Nothing asks a `written` or `ordered` log to be durable before close, yet a killed server must leave a super
        // block whose nr_entries covers what it logged: the writer syncs and refreshes it every SuperBlockInterval.
        string log = Path.Combine(_dir, "log");
        var options = new CaptureLogOptions { FlushWaitsFor = durability, SuperBlockInterval = TimeSpan.FromMilliseconds(50) };
        var backend = LoggingBackend.Open(NewBacking(1 << 20), log, 512, options);
        for (int i = 0; i < 10; i++)
            Assert.Equal(0, backend.Write(i * 4096L, new byte[4096], fua: false));
        Assert.Equal(0, backend.Flush());
        var deadline = Stopwatch.StartNew();
        while (backend.Log.EntriesDurable < 12 && deadline.Elapsed < TimeSpan.FromSeconds(10))
            Thread.Sleep(10);
        Assert.Equal(12, backend.Log.EntriesDurable); // the size mark, 10 writes and the flush
        Thread.Sleep(200); // the super block goes out on the writer's next round
        using (var file = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            var super = new byte[512];
            file.ReadExactly(super);
            Assert.Equal(12UL, LogSuperBlock.Read(super, log).EntryCount);
        }
        backend.Dispose();
    }

    [Fact]
    public void Producers_that_fill_the_ring_wake_a_writer_with_long_naps()
    {
        // Nothing waits for the log (ordered) and the writer's naps are 10 s: only the producers' wake at WakeBytes
        // moves the ring. 8 MiB from four threads through a 64 KiB ring needs the writer hundreds of times, and
        // producers finish out of order: the one whose record completes the committed prefix may be below WakeBytes
        // itself. One wake lost costs a whole nap.
        var options = new CaptureLogOptions
        {
            RingBytes = 1 << 16, WakeBytes = 1 << 14, FlushWaitsFor = LogDurability.Ordered,
            WriterInterval = TimeSpan.FromSeconds(10), SuperBlockInterval = TimeSpan.FromSeconds(10),
        };
        var backend = LoggingBackend.Open(NewBacking(8 << 20), Path.Combine(_dir, "log"), 512, options);
        var clock = Stopwatch.StartNew();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            var block = new byte[4096];
            for (int i = 0; i < 512; i++)
                Assert.Equal(0, backend.Write((t * 512 + i) * 4096L, block, fua: false));
        });
        TimeSpan took = clock.Elapsed;
        backend.Dispose();
        Assert.True(took < TimeSpan.FromSeconds(8), $"8 MiB through a 64 KiB ring took {took.TotalSeconds:F1} s: a producer's wake was lost and the writer slept out its nap");
    }

    [Fact]
    public void Options_that_would_stall_the_writer_are_refused_when_the_log_is_created()
    {
        string log = Path.Combine(_dir, "log");
        var tooLate = Assert.Throws<ArgumentOutOfRangeException>(() => CaptureLog.Create(log, 512, new CaptureLogOptions { RingBytes = 1 << 16 }));
        Assert.Equal("WakeBytes", tooLate.ParamName); // 1 MiB pending can never happen in a 64 KiB ring
        Assert.Throws<ArgumentOutOfRangeException>(() => CaptureLog.Create(log, 512, new CaptureLogOptions { RingBytes = 3 << 20 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => CaptureLog.Create(log, 512, new CaptureLogOptions { WriterInterval = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => CaptureLog.Create(log, 512, new CaptureLogOptions { SuperBlockInterval = TimeSpan.FromDays(30) }));
        Assert.False(File.Exists(log), "a refused log must not be created");
    }

    [Fact]
    public void An_idle_writer_sleeps_instead_of_waking_every_interval()
    {
        // With everything written, the writer naps for SuperBlockInterval, not WriterInterval: over an idle second,
        // about 500 naps at a 2 ms interval, a handful now.
        var options = new CaptureLogOptions { WriterInterval = TimeSpan.FromMilliseconds(2), SuperBlockInterval = TimeSpan.FromMilliseconds(200) };
        var backend = LoggingBackend.Open(NewBacking(1 << 20), Path.Combine(_dir, "log"), 512, options);
        Assert.Equal(0, backend.Write(0, new byte[4096], fua: false));
        Assert.Equal(0, backend.Flush());
        Thread.Sleep(300); // the background sync and super block refresh after the flush
        long before = backend.Log.WriterNaps;
        Thread.Sleep(1000);
        long naps = backend.Log.WriterNaps - before;
        backend.Dispose();
        Assert.True(naps < 50, $"the idle writer woke {naps} times in a second");
    }

    [Fact]
    public void A_small_ring_wraps_many_times_and_splits_large_writes_without_losing_a_byte()
    {
        string log = Path.Combine(_dir, "log");
        string backing = NewBacking(8 << 20);
        var backend = LoggingBackend.Open(backing, log, 512, new CaptureLogOptions { RingBytes = 1 << 16, WakeBytes = 1 << 14 });
        var rng = new Random(7);
        var data = new byte[64 << 10]; // four times the ring's largest record: split into several entries
        for (int i = 0; i < 200; i++)
        {
            rng.NextBytes(data);
            int length = 512 * rng.Next(1, data.Length / 512 + 1);
            long offset = 512L * rng.Next(0, (8 << 20) / 512 - length / 512);
            Assert.Equal(0, backend.Write(offset, data.AsSpan(0, length), false));
        }
        backend.Flush();
        backend.Dispose();
        var (super, entries) = TestLog.ReadAll(log);
        Assert.Equal((ulong)entries.Count, super.EntryCount);
        Assert.All(entries.Where(e => !e.Header.IsMark && !e.Header.IsFlush), e => Assert.True(e.Payload.Length <= (1 << 16) / 4));
        Assert.Equal(File.ReadAllBytes(backing), TestLog.ReplayOnto(entries, 8 << 20));
    }

    [Fact]
    public void Steady_state_requests_allocate_nothing()
    {
        var backend = LoggingBackend.Open(NewBacking(16 << 20), Path.Combine(_dir, "log"), 512, new CaptureLogOptions { RingBytes = 1 << 20, WakeBytes = 1 << 18 });
        var data = new byte[4096];
        void Run(int count)
        {
            for (int i = 0; i < count; i++)
            {
                backend.Write((i % 2048) * 4096L, data, fua: i % 64 == 0);
                if (i % 16 == 0) backend.Flush();
                if (i % 128 == 0) backend.Discard(0, 4096);
            }
        }
        Run(2000); // warm up: JIT, the monitors' sync blocks
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(5000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        backend.Dispose();
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void An_empty_write_is_refused_and_logs_nothing()
    {
        string log = Path.Combine(_dir, "log");
        var backend = LoggingBackend.Open(NewBacking(1 << 20), log, 512);
        Assert.Equal(-22, backend.Write(4096, ReadOnlySpan<byte>.Empty, fua: false)); // EINVAL: replay-log reads a 0-sector write as corrupt
        Assert.Equal(-22, backend.Log.AppendWrite(0, ReadOnlySpan<byte>.Empty));
        Assert.Equal(0, backend.Write(0, new byte[512], fua: false)); // the log still works
        backend.Dispose();
        Assert.Equal([true, false, true], TestLog.ReadAll(log).Entries.Select(e => e.Header.IsMark)); // size mark, write, end mark
    }

    [Fact]
    public void Mark_names_follow_the_kernel_length_rule()
    {
        var backend = LoggingBackend.Open(NewBacking(1 << 20), Path.Combine(_dir, "log"), 512);
        Assert.Equal(0, backend.Mark(new string('m', 479)));
        Assert.Equal(-22, backend.Mark(new string('m', 480)));
        Assert.Equal(-22, backend.Mark(""));
        backend.Dispose();
    }

    [Fact]
    public void A_full_log_device_fails_requests_loudly_and_keeps_what_it_logged()
    {
        string logImage = NewBacking(256 << 10);
        using var loop = LoopImage.Attach(logImage);
        var backend = LoggingBackend.Open(NewBacking(4 << 20), loop.Device, 512);
        var data = new byte[4096];
        int ok = 0, rc = 0;
        for (int i = 0; i < 200 && rc == 0; i++)
        {
            data[0] = (byte)i;
            rc = backend.Write(i * 4096L, data, false);
            if (rc == 0) ok++;
        }
        Assert.Equal(-28, rc); // ENOSPC, not a silent pass-through
        Assert.Equal(-28, backend.Write(0, data, false)); // and every later request fails too
        Assert.Contains("full", backend.Log.FailureReason);
        backend.Dispose();
        var (super, entries) = TestLog.ReadAll(loop.Device);
        Assert.Equal(ok, entries.Count(e => !e.Header.IsMark && !e.Header.IsFlush));
        Assert.Equal((ulong)entries.Count, super.EntryCount);
        for (int i = 0; i < ok; i++)
            Assert.Equal((byte)i, entries[i + 1].Payload[0]); // after the size mark
    }

    /// <summary>Whether this process holds <paramref name="path"/> open with O_DSYNC (from /proc/self/fdinfo).</summary>
    private static bool OpenedWithDsync(string path)
    {
        string target = Path.GetFullPath(path);
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            if (new FileInfo(fd).LinkTarget != target)
                continue;
            string flags = File.ReadLines($"/proc/self/fdinfo/{Path.GetFileName(fd)}").First(l => l.StartsWith("flags:"));
            return (Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & FastLog.Interop.Libc.O_DSYNC) != 0;
        }
        throw new InvalidOperationException($"{path} is not open in this process");
    }

    private static void Fill(Span<byte> span, int thread, int index)
    {
        for (int k = 0; k + 8 <= span.Length; k += 8)
            BinaryPrimitives.WriteInt64LittleEndian(span[k..], ((long)thread << 48) ^ ((long)index << 20) ^ k);
    }
}
