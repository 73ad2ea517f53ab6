using System.Runtime.InteropServices;
using FastLog.Backends;
using FastLog.Capture;
using FastLog.Interop.IoUring;
using FastLog.Tests.Capture;
using FastLog.Tests.Support;

namespace FastLog.Tests.Backends;

/// <summary>
/// The backends on a queue's io_uring, driven the way a ublk queue drives them (start requests, route CQEs back),
/// natively on real files: many requests in flight per thread, and the logging order kept without blocking.
/// </summary>
public sealed unsafe class RingQueueTests : IDisposable
{
    private const int Depth = 16, BufferBytes = 64 * 1024, DeviceBytes = 4 << 20;
    private readonly string _dir = Directory.CreateTempSubdirectory("fastlog-ring-").FullName;
    private readonly string _backing, _log;

    public RingQueueTests()
    {
        _backing = Path.Combine(_dir, "backing");
        _log = Path.Combine(_dir, "log");
        using var f = new FileStream(_backing, FileMode.Create);
        f.SetLength(DeviceBytes);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void File_requests_are_all_in_flight_at_once_and_land_where_they_should()
    {
        using FileBackend file = FileBackend.Open(_backing, direct: true);
        using var driver = new RingDriver(file);
        for (ushort tag = 0; tag < Depth; tag++)
        {
            new Span<byte>(driver.Buffer(tag), 8192).Fill((byte)(tag + 1));
            driver.Start(tag, new BlockRequest(BlockOp.Write, tag * 65536L, 8192, Fua: tag % 4 == 0));
        }
        Assert.Equal(Depth, driver.Pending); // nothing was served synchronously: all sixteen are on the ring
        driver.RunUntilIdle();
        Assert.All(driver.Results[..Depth], r => Assert.Equal(0, r));

        driver.Start(0, new BlockRequest(BlockOp.Flush, 0, 0));
        driver.RunUntilIdle();
        Assert.Equal(0, driver.Results[0]);

        for (ushort tag = 0; tag < Depth; tag++)
        {
            new Span<byte>(driver.Buffer(tag), 12288).Fill(0xEE);
            driver.Start(tag, new BlockRequest(BlockOp.Read, tag * 65536L, 12288));
        }
        driver.RunUntilIdle();
        byte[] onDisk = File.ReadAllBytes(_backing);
        for (ushort tag = 0; tag < Depth; tag++)
        {
            Assert.Equal(0, driver.Results[tag]);
            var read = new ReadOnlySpan<byte>(driver.Buffer(tag), 12288);
            Assert.True(read[..8192].IndexOfAnyExcept((byte)(tag + 1)) < 0, $"tag {tag}: read back other data");
            Assert.True(read[8192..].IndexOfAnyExcept((byte)0) < 0, $"tag {tag}: the unwritten rest is not zero");
            Assert.True(onDisk.AsSpan(tag * 65536, 8192).IndexOfAnyExcept((byte)(tag + 1)) < 0);
        }
    }

    [Theory]
    [InlineData(LogDurability.Durable)]
    [InlineData(LogDurability.Written)]
    public void Logging_queue_logs_writes_before_reporting_them_and_reports_a_flush_once_the_log_reached_it(LogDurability durability)
    {
        using LoggingBackend logging = LoggingBackend.Open(_backing, _log, logicalBlockSize: 512,
            new CaptureLogOptions { FlushWaitsFor = durability });
        var driver = new RingDriver(logging);
        const long flushEnd = 512 + 512 + (Depth - 1) * (512 + 4096) + 512; // super block, size mark, the writes, the FLUSH entry
        long reachedWhenFlushReported = -1;
        driver.OnCompleted = (tag, result) =>
        {
            if (tag == Depth - 1)
                reachedWhenFlushReported = durability == LogDurability.Durable ? logging.Log.DurableUntil : logging.Log.WrittenUntil;
        };
        for (ushort tag = 0; tag < Depth - 1; tag++)
        {
            new Span<byte>(driver.Buffer(tag), 4096).Fill((byte)(tag + 1));
            driver.Start(tag, new BlockRequest(BlockOp.Write, tag * 4096L, 4096));
        }
        driver.RunUntilIdle();
        driver.Start(Depth - 1, new BlockRequest(BlockOp.Flush, 0, 0));
        driver.RunUntilIdle();
        Assert.All(driver.Results, r => Assert.Equal(0, r));
        Assert.True(reachedWhenFlushReported >= flushEnd, // the fifteen writes and the flush had reached the log when the flush was reported
            $"the flush was reported with the log at {reachedWhenFlushReported} of {flushEnd}");

        new Span<byte>(driver.Buffer(0), 4096).Fill(0x77);
        driver.Start(0, new BlockRequest(BlockOp.Write, 0, 4096, Fua: true));
        driver.RunUntilIdle();
        Assert.Equal(0, driver.Results[0]);
        long fuaEnd = flushEnd + 512 + 4096;
        Assert.True((durability == LogDurability.Durable ? logging.Log.DurableUntil : logging.Log.WrittenUntil) >= fuaEnd,
            "a FUA write was reported before the log reached it");
        driver.Dispose();
        logging.Dispose();

        List<TestLog.Entry> entries = TestLog.ReadAll(_log).Entries;
        Assert.Equal(Depth, entries.FindIndex(e => e.Header.IsFlush)); // the size mark and every write that was reported come before the flush
        Assert.True(entries[Depth + 1].Header.IsFua);
        Assert.Equal(File.ReadAllBytes(_backing), TestLog.ReplayOnto(entries, DeviceBytes));
    }

    [Fact]
    public void Serving_through_the_logging_queue_allocates_nothing_in_steady_state()
    {
        using LoggingBackend logging = LoggingBackend.Open(_backing, _log, logicalBlockSize: 4096);
        using var driver = new RingDriver(logging);
        void Round(int i)
        {
            for (ushort tag = 0; tag < 8; tag++)
                driver.Start(tag, new BlockRequest(BlockOp.Write, (i % 16 * 8 + tag) * 4096L, 4096, Fua: tag == 7));
            driver.RunUntilIdle();
            driver.Start(0, new BlockRequest(BlockOp.Flush, 0, 0));
            driver.Start(1, new BlockRequest(BlockOp.Read, i % 16 * 4096L, 4096));
            driver.RunUntilIdle();
        }
        for (int i = 0; i < 20; i++) // JIT, tiering, first-call stubs
            Round(i);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
            Round(i);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.All(driver.Results[..8], r => Assert.Equal(0, r));
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void On_a_full_log_device_the_logging_queue_fails_requests_loudly_and_leaves_none_hanging()
    {
        string logImage = Path.Combine(_dir, "log.img");
        using (var f = new FileStream(logImage, FileMode.Create))
            f.SetLength(256 << 10);
        using var loop = LoopImage.Attach(logImage);
        using LoggingBackend logging = LoggingBackend.Open(_backing, loop.Device, logicalBlockSize: 512);
        using var driver = new RingDriver(logging);
        int failure = 0;
        for (int round = 0; round < 100 && failure == 0; round++)
        {
            for (ushort tag = 0; tag < 8; tag++)
                driver.Start(tag, new BlockRequest(BlockOp.Write, (round * 8 + tag) * 4096L % DeviceBytes, 4096, Fua: tag == 7));
            driver.Start(8, new BlockRequest(BlockOp.Flush, 0, 0));
            driver.RunUntilIdle(); // fails the test if a request parked on the log is never reported
            failure = driver.Results[..9].FirstOrDefault(r => r < 0);
        }
        Assert.Equal(-28, failure); // ENOSPC, not a silent pass-through
        driver.Start(0, new BlockRequest(BlockOp.Write, 0, 4096));
        driver.Start(1, new BlockRequest(BlockOp.Flush, 0, 0));
        driver.Start(2, new BlockRequest(BlockOp.Discard, 0, 4096));
        driver.RunUntilIdle();
        Assert.Equal([-28, -28, -28], driver.Results[..3]); // and so does every later request
    }

    [Fact]
    public void Over_a_volatile_cache_the_logging_queue_cuts_at_its_trigger_and_logs_nothing_after_it()
    {
        Assert.True(PowerFailTrigger.TryParse("after-writes=3", out PowerFailTrigger trigger, out _));
        var cache = new VolatileCacheBackend(FileBackend.Open(_backing, direct: true), 4 << 20, 512, PowerFailKeep.None);
        var logging = new LoggingBackend(cache, CaptureLog.Create(_log, 512), trigger: trigger);
        var driver = new RingDriver(logging);
        for (ushort tag = 0; tag < 5; tag++)
        {
            new Span<byte>(driver.Buffer(tag), 4096).Fill((byte)(tag + 1));
            driver.Start(tag, new BlockRequest(BlockOp.Write, tag * 4096L, 4096));
            driver.RunUntilIdle();
        }
        driver.Start(5, new BlockRequest(BlockOp.Flush, 0, 0));
        driver.RunUntilIdle();
        Assert.Equal([0, 0, 0, -5, -5, -5], driver.Results[..6]);
        Assert.True(logging.PoweredOff);
        driver.Dispose();
        logging.Dispose();
        List<TestLog.Entry> entries = TestLog.ReadAll(_log).Entries;
        Assert.Equal(3, entries.TakeWhile(e => e.MarkName != PowerFailMarks.PowerFail).Count(e => !e.Header.IsMark));
        Assert.DoesNotContain(entries, e => e.Header.IsFlush);
        Assert.Equal(new byte[DeviceBytes], File.ReadAllBytes(_backing)); // nothing was flushed: keep=none lost it all
    }

    [Fact]
    public void The_logging_queue_voids_a_flush_whose_inner_flush_failed()
    {
        var inner = new FailedFlushTests.FlakyFlushBackend(DeviceBytes) { FailFlush = true };
        var logging = new LoggingBackend(inner, CaptureLog.Create(_log, 512));
        var driver = new RingDriver(logging);
        driver.Start(0, new BlockRequest(BlockOp.Write, 0, 4096));
        driver.RunUntilIdle();
        driver.Start(1, new BlockRequest(BlockOp.Flush, 0, 0));
        driver.RunUntilIdle();
        Assert.Equal([0, -5], driver.Results[..2]);
        driver.Dispose();
        logging.Dispose();
        FastLog.LogFormat.LogIndex index = FastLog.LogFormat.LogIndex.Build(_log);
        Assert.Equal([2], index.FailedFlushes.ToArray()); // after the size mark and the write
        Assert.True(index.Flushes.IsEmpty);
    }

    /// <summary>A minimal queue thread: one ring, one buffer per tag, CQEs routed to the backend queue.</summary>
    private sealed class RingDriver : IRequestSink, IDisposable
    {
        private readonly IoUringRing _ring = IoUringRing.Create(2 * Depth);
        private readonly IRingBackendQueue _queue;
        private readonly byte* _buffers = (byte*)NativeMemory.AlignedAlloc((nuint)(Depth * BufferBytes), 4096);

        public RingDriver(IBlockBackend backend)
        {
            NativeMemory.Clear(_buffers, Depth * BufferBytes);
            _queue = ((IRingBackend)backend).OpenQueue(new BackendRing(_ring, Depth), this);
        }

        public int[] Results { get; } = new int[Depth];
        public int Pending { get; private set; }
        public Action<ushort, int>? OnCompleted { get; set; }

        public byte* Buffer(ushort tag) => _buffers + tag * BufferBytes;

        public void Start(ushort tag, BlockRequest request)
        {
            Results[tag] = int.MinValue;
            Pending++;
            _queue.Start(tag, request, Buffer(tag));
        }

        public void Completed(ushort tag, int result)
        {
            if (Results[tag] != int.MinValue) // exactly once (no Assert.Equal here: it allocates a comparer per call)
                Assert.Fail($"tag {tag} was reported twice");
            Results[tag] = result;
            Pending--;
            OnCompleted?.Invoke(tag, result);
        }

        public void RunUntilIdle()
        {
            long deadline = Environment.TickCount64 + 30_000;
            while (Pending > 0)
            {
                if (Environment.TickCount64 > deadline)
                    Assert.Fail($"{Pending} requests still pending after 30 s");
                if (_ring.SubmitAndWait(1, 100_000_000) < 0)
                    Assert.Fail("io_uring_enter failed");
                for (IoUringCqe* cqe; (cqe = _ring.PeekCqe()) != null;)
                {
                    ulong userData = cqe->UserData;
                    int result = cqe->Result;
                    _ring.AdvanceCq();
                    if (!BackendRing.IsBackend(userData, out ushort tag, out byte layer))
                        Assert.Fail($"a CQE without the backend bit: {userData:x}");
                    _queue.OnCompletion(tag, layer, result);
                }
            }
        }

        public void Dispose()
        {
            _ring.Dispose();
            (_queue as IDisposable)?.Dispose();
            NativeMemory.AlignedFree(_buffers);
        }
    }
}
