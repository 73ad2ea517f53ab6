using FastLog.Backends;
using FastLog.LogFormat;

namespace FastLog.Capture;

/// <summary>
/// A backend that records every request it serves into a <see cref="CaptureLog"/>. It is also FastLog's
/// embedded API: a program can <see cref="Open"/> a logged device and read, write, flush and mark it with no
/// kernel frontend at all.
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
/// </remarks>
public sealed class LoggingBackend : IBlockBackend, IRingBackend
{
    private readonly IBlockBackend _inner;
    private readonly LogDurability _flushWaitsFor;

    public LoggingBackend(IBlockBackend inner, CaptureLog log, LogDurability flushWaitsFor = LogDurability.Durable)
    {
        _inner = inner;
        Log = log;
        _flushWaitsFor = flushWaitsFor;
    }

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
        Interlocked.Increment(ref _backingFailures);
        Interlocked.CompareExchange(ref _firstBackingFailure,
            $"{operation} of {length} bytes at byte {offset}: {Interop.Libc.ErrorText(-negativeErrno)}", null);
        return negativeErrno;
    }
    internal LogDurability FlushWaitsFor => _flushWaitsFor;
    public long Size => _inner.Size;

    /// <summary>Opens <paramref name="backingPath"/> and logs to <paramref name="logPath"/> (created or truncated).</summary>
    /// <param name="logicalBlockSize">The device's logical block size, which is also the log sector size.</param>
    public static LoggingBackend Open(string backingPath, string logPath, int logicalBlockSize = 512, CaptureLogOptions? options = null)
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
        int rc = _inner.Write(offset, source, fua);
        if (rc != 0)
            return BackingFailed("write", offset, source.Length, rc);
        long end = Log.AppendWrite(offset, source, fua ? LogEntryFlags.Fua : LogEntryFlags.None);
        if (end < 0)
            return (int)end;
        return fua ? Log.WaitFor(end, _flushWaitsFor) : 0;
    }

    public int Flush()
    {
        long end = Log.AppendFlush();
        if (end < 0)
            return (int)end;
        Log.Request(end, _flushWaitsFor); // the log is written or synced while the backing store syncs
        int rc = _inner.Flush();
        if (rc != 0)
            return BackingFailed("flush", 0, 0, rc);
        return Log.WaitFor(end, _flushWaitsFor);
    }

    public int Discard(long offset, long length)
    {
        if (Log.Failure != 0)
            return Log.Failure;
        int rc = _inner.Discard(offset, length);
        if (rc != 0)
            return BackingFailed("discard", offset, length, rc);
        long end = Log.AppendDiscard(offset, length);
        return end < 0 ? (int)end : 0;
    }

    public int WriteZeroes(long offset, long length)
    {
        if (Log.Failure != 0)
            return Log.Failure;
        int rc = _inner.WriteZeroes(offset, length);
        if (rc != 0)
            return BackingFailed("write-zeroes", offset, length, rc);
        long end = Log.AppendZeroes(offset, length);
        return end < 0 ? (int)end : 0;
    }

    /// <summary>Inserts a named mark between the requests that completed before and after it. 0 or -errno.</summary>
    public int Mark(string name)
    {
        long end = Log.AppendMark(name);
        return end < 0 ? (int)end : 0;
    }

    IRingBackendQueue IRingBackend.OpenQueue(BackendRing ring, IRequestSink sink) => new LoggingRingQueue(this, _inner, ring, sink);

    /// <summary>Closes the log (end mark, nr_entries, durable) before the inner backend.</summary>
    public void Dispose()
    {
        Log.Dispose();
        _inner.Dispose();
    }
}
