using System.Diagnostics;
using FastLog.Backends;
using FastLog.Interop;
using FastLog.LogFormat;

namespace FastLog.Capture;

/// <summary>
/// A backend that records every request it serves into a <see cref="CaptureLog"/>. Programs build one through
/// <see cref="Devices.LoggedDevice.Open"/>, which composes it over the backing (and a volatile cache) exactly as
/// `fastlog capture` does, with or without a kernel frontend.
/// </summary>
/// <remarks>
/// The central invariant, reproducing dm-log-writes' worst-case ordering with a total order across threads:
/// <list type="bullet">
/// <item>A WRITE, DISCARD or WRITE_ZEROES is applied to the inner backend first and enters the log order after it
/// completed there, before its completion is returned. A flush that arrives while the write is in flight is
/// therefore ordered before it: the flush does not cover it, as on a real device.</item>
/// <item>A FLUSH enters the log order when it arrives, so it covers exactly the writes that completed before it,
/// and returns only after the inner backend is durable and the log is durable up to the FLUSH (or, with
/// <see cref="LogDurability.Written"/>, written up to it; with <see cref="LogDurability.Ordered"/>, the log is not
/// waited for, as in the kernel's dm-log-writes).</item>
/// <item>A FUA write is logged with FUA and returns once it and the log up to it are durable.</item>
/// </list>
/// A failed log fails every later request with its errno, so a test never runs on unlogged I/O.
/// <para>A FLUSH whose inner flush fails is voided by a <see cref="FailedFlushMark"/> appended before the failure is
/// returned, so that no reader counts it as a durability point (see <see cref="Finish"/>).</para>
/// <para>Both paths enforce all of this in the same two steps, <see cref="Begin"/> before the inner backend sees a
/// request and <see cref="Finish"/> after it completed there: the synchronous <see cref="IBlockBackend"/> calls
/// (FUSE, embedded) and <see cref="LoggingRingQueue"/> (ublk queue threads) differ only in how they wait for the log.</para>
/// <para>Over a <see cref="VolatileCacheBackend"/> (power-fail injection) every request that changes the device holds
/// the cache's lock from the inner call through its log append, and the power cut takes it too: so the log order is
/// the cache's order, an early write-back's <c>writeback:</c> mark follows the entries of the data it persisted, and a
/// FLUSH or write either completed entirely before the <c>powerfail</c> mark or fails unlogged after it (no FLUSH is
/// ever logged and then cut short). The marks are described in <see cref="PowerFailMarks"/>.</para>
/// </remarks>
public sealed class LoggingBackend : IBlockBackend, IRingBackend, IWriteBackRecorder
{
    private readonly IBlockBackend _inner;
    private readonly VolatileCacheBackend? _cache;
    private long _writes, _flushes, _cutMarksEnd;

    /// <param name="log">Also says what a FLUSH waits for (<see cref="CaptureLog.FlushWaitsFor"/>).</param>
    public LoggingBackend(IBlockBackend inner, CaptureLog log, PowerFailTrigger? trigger = null)
    {
        if (log.SectorSize < inner.Capabilities.LogicalBlockSize)
            throw new ArgumentException($"the log's sector size {log.SectorSize} is below the inner backend's logical block size " +
                                        $"{inner.Capabilities.LogicalBlockSize}: a request could not be served below", nameof(log));
        _inner = inner;
        Log = log;
        Capabilities = inner.Capabilities with
        {
            LogicalBlockSize = log.SectorSize,
            PhysicalBlockSize = Math.Max(log.SectorSize, inner.Capabilities.PhysicalBlockSize),
            VolatileCache = true,
            Fua = true,
        };
        // The device's size, for tools that rebuild the device from the log alone (explore, materialize).
        if (log.AppendMark(CaptureLog.SizeMarkPrefix + inner.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)) < 0)
            throw new IOException($"{log.Path}: cannot write the log's first entry: {Interop.Libc.ErrorText(-log.Failure)}");
        _cache = inner as VolatileCacheBackend;
        if (_cache is not null)
        {
            if (_cache.BlockSize != log.SectorSize)
                throw new ArgumentException($"the cache's block size {_cache.BlockSize} is not the log's sector size {log.SectorSize}");
            _cache.Recorder = this;
        }
        else if (trigger is not null)
            throw new ArgumentException("a power-fail trigger needs a VolatileCacheBackend as the inner backend", nameof(trigger));
        Trigger = trigger;
    }

    /// <summary>When the power fails by itself (null: only by <see cref="PowerFail"/>); needs a volatile cache.</summary>
    public PowerFailTrigger? Trigger { get; }

    /// <summary>Whether this device can lose power: its inner backend is a <see cref="VolatileCacheBackend"/>.</summary>
    public bool CanPowerFail => _cache is not null;

    public bool PoweredOff => _cache?.PoweredOff ?? false;

    /// <summary>Raised after each power cut (on the thread that caused it), with what was kept.</summary>
    public event Action<PowerCutResult>? PowerFailed;

    public CaptureLog Log { get; }

    /// <summary>The first request the backing store failed ("write of N bytes at byte B: errno text"), or null.</summary>
    public string? FirstBackingFailure => Volatile.Read(ref _firstBackingFailure);
    /// <summary>How many requests the backing store failed.</summary>
    public long BackingFailures => Interlocked.Read(ref _backingFailures);
    private string? _firstBackingFailure;
    private long _backingFailures;

    /// <summary>Notes a request the backing store failed, so capture can say which device failed and why.</summary>
    private int BackingFailed(in BlockRequest request, int negativeErrno)
    {
        if (PoweredOff)
            return negativeErrno; // a power cut fails every request on purpose: the backing store did not fail
        Interlocked.Increment(ref _backingFailures);
        string operation = request.Op switch
        {
            BlockOp.Read => "read",
            BlockOp.Write => "write",
            BlockOp.Flush => "flush",
            BlockOp.Discard => "discard",
            _ => "write-zeroes",
        };
        Interlocked.CompareExchange(ref _firstBackingFailure,
            $"{operation} of {request.Length} bytes at byte {request.Offset}: {Interop.Libc.ErrorText(-negativeErrno)}", null);
        return negativeErrno;
    }
    internal LogDurability FlushWaitsFor => Log.FlushWaitsFor;
    public long Size => _inner.Size;

    /// <summary>The inner backend's, at the log's sector size, and always with a volatile cache and FUA: the kernel
    /// then sends every FLUSH and FUA write, and the log must see every durability point, as dm-log-writes does.</summary>
    public DeviceCapabilities Capabilities { get; }

    /// <summary>
    /// Tests' shortcut: opens <paramref name="backingPath"/> buffered and logs to <paramref name="logPath"/> (created or
    /// truncated), with log options a test may tune; programs use <see cref="Devices.LoggedDevice.Open"/>.
    /// </summary>
    /// <param name="logicalBlockSize">The device's logical block size, which is also the log sector size.</param>
    internal static LoggingBackend Open(string backingPath, string logPath, int logicalBlockSize = 512, CaptureLogOptions? options = null)
    {
        options ??= new CaptureLogOptions();
        FileBackend backing = FileBackend.Open(backingPath, logicalBlockSize: logicalBlockSize);
        try
        {
            return new LoggingBackend(backing, CaptureLog.Create(logPath, logicalBlockSize, options));
        }
        catch
        {
            backing.Dispose();
            throw;
        }
    }

    public unsafe int Read(long offset, Span<byte> destination)
    {
        fixed (byte* data = destination)
            return Serve(new BlockRequest(BlockOp.Read, offset, destination.Length), data);
    }

    public unsafe int Write(long offset, ReadOnlySpan<byte> source, bool fua)
    {
        fixed (byte* data = source)
            return Serve(new BlockRequest(BlockOp.Write, offset, source.Length, fua), data);
    }

    public unsafe int Flush() => Serve(new BlockRequest(BlockOp.Flush, 0, 0), null);

    public unsafe int Discard(long offset, long length) => Serve(new BlockRequest(BlockOp.Discard, offset, length), null);

    public unsafe int WriteZeroes(long offset, long length) => Serve(new BlockRequest(BlockOp.WriteZeroes, offset, length), null);

    /// <summary>
    /// The synchronous path (FUSE, embedded): <see cref="Begin"/>, the inner backend and <see cref="Finish"/>, in the
    /// order; then the wait for the log outside it, so that other requests enter the order meanwhile.
    /// </summary>
    private unsafe int Serve(in BlockRequest request, byte* data)
    {
        bool ordered = request.Op != BlockOp.Read && EnterOrder();
        LoggedCompletion done;
        try
        {
            int rc = Begin(request, fromQueueThread: false, out long flushEnd);
            if (rc != 0)
                return rc;
            done = Finish(request, data, request.ServeSync(_inner, data), flushEnd);
        }
        finally
        {
            ExitOrder(ordered);
        }
        return done.LogAddress > 0 ? Log.WaitFor(done.LogAddress, Log.FlushWaitsFor) : done.Result;
    }

    /// <summary>
    /// Step one of every request on both paths (<see cref="Serve"/>, <see cref="LoggingRingQueue"/>), in the order
    /// (<see cref="EnterOrder"/>), before the inner backend sees it: a FLUSH enters the log here, as it arrives, and the
    /// log is asked to be written or synced while the inner backend flushes. Returns 0 to go on to the inner backend,
    /// else the result to report now; <paramref name="flushEnd"/> is the FLUSH entry's end address, for
    /// <see cref="Finish"/>.
    /// </summary>
    /// <param name="fromQueueThread">A ublk queue thread, which learns of the log's progress from a
    /// <see cref="LogWatch"/>: it must not start log I/O that nobody would reap.</param>
    internal int Begin(in BlockRequest request, bool fromQueueThread, out long flushEnd)
    {
        flushEnd = 0;
        if (request.Op == BlockOp.Read)
            return 0;
        if (request.Op != BlockOp.Flush)
            return Log.Failure;
        if (PoweredOff)
            return -Libc.EIO; // after the cut nothing is logged: a FLUSH that cannot complete never enters the log
        long end = Log.AppendFlush();
        if (end < 0)
            return (int)end;
        flushEnd = end;
        if (fromQueueThread)
            Log.RequestFromWriter(end, Log.FlushWaitsFor);
        else
            Log.Request(end, Log.FlushWaitsFor);
        return 0;
    }

    /// <summary>
    /// Step two of every request on both paths, in the order, once the inner backend finished it with
    /// <paramref name="innerResult"/>: a WRITE, DISCARD or WRITE_ZEROES enters the log here, after it completed below
    /// and before it is reported; a FLUSH the inner backend failed is voided by a <see cref="FailedFlushMark"/> (the one
    /// place that enforces the failed-FLUSH rule). A FLUSH or a FUA write is reported only once the log reached the
    /// returned <see cref="LoggedCompletion.LogAddress"/>.
    /// </summary>
    internal unsafe LoggedCompletion Finish(in BlockRequest request, byte* data, int innerResult, long flushEnd)
    {
        Debug.Assert(request.Op != BlockOp.Flush || flushEnd > 0, "a FLUSH reaches the inner backend only once it is logged");
        if (innerResult < 0)
        {
            int rc = BackingFailed(request, innerResult);
            return new LoggedCompletion(request.Op == BlockOp.Flush ? FlushFailed(flushEnd, rc) : rc);
        }
        if (request.Op == BlockOp.Read)
            return new LoggedCompletion(0);
        long end = request.Op switch
        {
            BlockOp.Write => Log.AppendWrite(request.Offset, new ReadOnlySpan<byte>(data, checked((int)request.Length)),
                request.Fua ? LogEntryFlags.Fua : LogEntryFlags.None),
            BlockOp.Discard => Log.AppendDiscard(request.Offset, request.Length),
            BlockOp.WriteZeroes => Log.AppendZeroes(request.Offset, request.Length),
            _ => flushEnd,
        };
        if (end < 0)
            return new LoggedCompletion((int)end);
        Completed(request.Op);
        return request.Op == BlockOp.Flush || request.Fua ? new LoggedCompletion(0, end) : new LoggedCompletion(0);
    }

    /// <summary>Voids the FLUSH entry ending at <paramref name="flushEnd"/>; returns <paramref name="rc"/>.</summary>
    private int FlushFailed(long flushEnd, int rc)
    {
        Log.AppendMark(FailedFlushMark.Name(flushEnd - Log.SectorSize));
        return rc;
    }

    /// <summary>Inserts a named mark between the requests that completed before and after it. 0 or -errno.
    /// With an <c>at-mark</c> trigger for this name, the power fails right after it.</summary>
    public int Mark(string name)
    {
        bool ordered = EnterOrder();
        try
        {
            long end = Log.AppendMark(name);
            if (end < 0)
                return (int)end;
            if (ordered && Trigger is { Kind: PowerFailTriggerKind.AtMark } t && t.MarkName == name && !_cache!.PoweredOff)
                PowerFailLocked(null);
            return 0;
        }
        finally
        {
            ExitOrder(ordered);
        }
    }

    /// <summary>
    /// Cuts the power now (see <see cref="VolatileCacheBackend.PowerCut"/>): logs <c>powerfail</c> and what was kept,
    /// waits until the log holds them durably, and returns the cut; null if the power is already off.
    /// </summary>
    /// <exception cref="InvalidOperationException">No volatile cache under this backend.</exception>
    public PowerCutResult? PowerFail(PowerFailKeep? keep = null)
    {
        if (_cache is null)
            throw new InvalidOperationException("this device has no volatile cache to lose (capture --power-fail)");
        PowerCutResult? cut;
        long marksEnd;
        lock (_cache.SyncRoot)
        {
            cut = PowerFailLocked(keep);
            marksEnd = _cutMarksEnd;
        }
        if (cut is not null)
            Log.WaitFor(marksEnd, LogDurability.Durable);
        return cut;
    }

    /// <summary>Restores service after a cut and logs <c>poweron</c>; false if the power was on.</summary>
    /// <remarks>The caller drops the block device's page cache (BLKFLSBUF from a process that does not serve it), so
    /// that nothing read before the cut is served after it.</remarks>
    public bool PowerOn()
    {
        if (_cache is null)
            throw new InvalidOperationException("this device has no volatile cache to lose (capture --power-fail)");
        lock (_cache.SyncRoot)
        {
            if (!_cache.PowerOn())
                return false;
            Log.AppendMark(PowerFailMarks.PowerOn);
            return true;
        }
    }

    /// <summary>Counts a request that completed, under the cache's lock, and cuts the power if the trigger says so.</summary>
    private void Completed(BlockOp op)
    {
        if (Trigger is not { } t)
            return;
        long count = op == BlockOp.Write ? ++_writes : op == BlockOp.Flush ? ++_flushes : 0;
        if (count == t.Count && ((op == BlockOp.Write && t.Kind == PowerFailTriggerKind.AfterWrites)
                                 || (op == BlockOp.Flush && t.Kind == PowerFailTriggerKind.AfterFlushes)))
            PowerFailLocked(null);
    }

    private PowerCutResult? PowerFailLocked(PowerFailKeep? keep)
    {
        if (_cache!.PoweredOff)
            return null;
        long end = Log.AppendMark(PowerFailMarks.PowerFail);
        PowerCutResult cut = _cache.PowerCut(keep)!;
        end = Math.Max(end, Log.AppendMark(PowerFailMarks.Summary(cut)));
        foreach (string mark in PowerFailMarks.Format(PowerFailMarks.KeptPrefix, cut.Kept, LogEntryHeader.MaxMarkNameLength(Log.SectorSize)))
            end = Math.Max(end, Log.AppendMark(mark));
        _cutMarksEnd = end;
        Log.Request(end, LogDurability.Durable);
        PowerFailed?.Invoke(cut);
        return cut;
    }

    void IWriteBackRecorder.WroteBack(ReadOnlySpan<BlockRange> ranges)
    {
        foreach (string mark in PowerFailMarks.Format(PowerFailMarks.WriteBackPrefix, ranges, LogEntryHeader.MaxMarkNameLength(Log.SectorSize)))
            Log.AppendMark(mark);
    }

    /// <summary>Takes the cache's lock when there is a cache (see the remarks); true if taken.</summary>
    internal bool EnterOrder()
    {
        if (_cache is null)
            return false;
        Monitor.Enter(_cache.SyncRoot);
        return true;
    }

    internal void ExitOrder(bool entered)
    {
        if (entered)
            Monitor.Exit(_cache!.SyncRoot);
    }

    IRingBackendQueue IRingBackend.OpenQueue(BackendRing ring, IRequestSink sink) => new LoggingRingQueue(this, _inner, ring, sink);

    /// <summary>Closes the log (end mark, nr_entries, durable) before the inner backend.</summary>
    public void Dispose()
    {
        Log.Dispose();
        _inner.Dispose();
    }
}

/// <summary>How a logged request ends: with <see cref="Result"/> now, or, when <see cref="LogAddress"/> is positive,
/// with the log's result once the log is durable (or written) up to that address.</summary>
internal readonly record struct LoggedCompletion(int Result, long LogAddress = 0);
