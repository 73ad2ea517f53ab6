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
/// returned, so that no reader counts it as a durability point (see <see cref="Flush"/>).</para>
/// <para>Over a <see cref="VolatileCacheBackend"/> (power-fail injection) every request that changes the device holds
/// the cache's lock from the inner call through its log append, and the power cut takes it too: so the log order is
/// the cache's order, an early write-back's <c>writeback:</c> mark follows the entries of the data it persisted, and a
/// FLUSH or write either completed entirely before the <c>powerfail</c> mark or fails unlogged after it (no FLUSH is
/// ever logged and then cut short). The marks are described in <see cref="PowerFailMarks"/>.</para>
/// </remarks>
public sealed class LoggingBackend : IBlockBackend, IRingBackend, IWriteBackRecorder
{
    private readonly IBlockBackend _inner;
    private readonly LogDurability _flushWaitsFor;
    private readonly VolatileCacheBackend? _cache;
    private long _writes, _flushes, _cutMarksEnd;

    public LoggingBackend(IBlockBackend inner, CaptureLog log, LogDurability flushWaitsFor = LogDurability.Durable,
        PowerFailTrigger? trigger = null)
    {
        _inner = inner;
        Log = log;
        _flushWaitsFor = flushWaitsFor;
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
    internal int BackingFailed(string operation, long offset, long length, int negativeErrno)
    {
        if (PoweredOff)
            return negativeErrno; // a power cut fails every request on purpose: the backing store did not fail
        Interlocked.Increment(ref _backingFailures);
        Interlocked.CompareExchange(ref _firstBackingFailure,
            $"{operation} of {length} bytes at byte {offset}: {Interop.Libc.ErrorText(-negativeErrno)}", null);
        return negativeErrno;
    }
    internal LogDurability FlushWaitsFor => _flushWaitsFor;
    public long Size => _inner.Size;

    /// <summary>
    /// Tests' shortcut: opens <paramref name="backingPath"/> buffered and logs to <paramref name="logPath"/> (created or
    /// truncated), with log options a test may tune; programs use <see cref="Devices.LoggedDevice.Open"/>.
    /// </summary>
    /// <param name="logicalBlockSize">The device's logical block size, which is also the log sector size.</param>
    internal static LoggingBackend Open(string backingPath, string logPath, int logicalBlockSize = 512, CaptureLogOptions? options = null)
    {
        options ??= new CaptureLogOptions();
        FileBackend backing = FileBackend.Open(backingPath);
        try
        {
            return new LoggingBackend(backing, CaptureLog.Create(logPath, logicalBlockSize, options), options.FlushWaitsFor);
        }
        catch
        {
            backing.Dispose();
            throw;
        }
    }

    public int Read(long offset, Span<byte> destination) => _inner.Read(offset, destination);

    public int Write(long offset, ReadOnlySpan<byte> source, bool fua)
    {
        if (Log.Failure != 0)
            return Log.Failure;
        long end;
        bool ordered = EnterOrder();
        try
        {
            int rc = _inner.Write(offset, source, fua);
            if (rc != 0)
                return BackingFailed("write", offset, source.Length, rc);
            end = Log.AppendWrite(offset, source, fua ? LogEntryFlags.Fua : LogEntryFlags.None);
            if (end < 0)
                return (int)end;
            if (ordered)
                Completed(BlockOp.Write);
        }
        finally
        {
            ExitOrder(ordered);
        }
        return fua ? Log.WaitFor(end, _flushWaitsFor) : 0;
    }

    /// <summary>
    /// The FLUSH enters the log when it arrives; if the inner flush then fails, a <see cref="FailedFlushMark"/> naming
    /// its entry is appended before the error is returned, so the entry never reads as a completed flush (the one
    /// place that enforces the failed-FLUSH rule for the synchronous path; <see cref="LoggingRingQueue"/> does the same).
    /// </summary>
    public int Flush()
    {
        long end;
        bool ordered = EnterOrder();
        try
        {
            if (ordered && _cache!.PoweredOff)
                return -Libc.EIO; // after the cut nothing is logged: a FLUSH that cannot complete never enters the log
            end = Log.AppendFlush();
            if (end < 0)
                return (int)end;
            Log.Request(end, _flushWaitsFor); // the log is written or synced while the backing store syncs
            int rc = _inner.Flush();
            if (rc != 0)
                return FlushFailed(end, BackingFailed("flush", 0, 0, rc));
            if (ordered)
                Completed(BlockOp.Flush);
        }
        finally
        {
            ExitOrder(ordered);
        }
        return Log.WaitFor(end, _flushWaitsFor);
    }

    /// <summary>Voids the FLUSH entry ending at <paramref name="flushEnd"/>; returns <paramref name="rc"/>.</summary>
    internal int FlushFailed(long flushEnd, int rc)
    {
        Log.AppendMark(FailedFlushMark.Name(flushEnd - Log.SectorSize));
        return rc;
    }

    public int Discard(long offset, long length) => Trim(offset, length, zeroes: false);

    public int WriteZeroes(long offset, long length) => Trim(offset, length, zeroes: true);

    private int Trim(long offset, long length, bool zeroes)
    {
        if (Log.Failure != 0)
            return Log.Failure;
        bool ordered = EnterOrder();
        try
        {
            int rc = zeroes ? _inner.WriteZeroes(offset, length) : _inner.Discard(offset, length);
            if (rc != 0)
                return BackingFailed(zeroes ? "write-zeroes" : "discard", offset, length, rc);
            long end = zeroes ? Log.AppendZeroes(offset, length) : Log.AppendDiscard(offset, length);
            return end < 0 ? (int)end : 0;
        }
        finally
        {
            ExitOrder(ordered);
        }
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
    internal void Completed(BlockOp op)
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
