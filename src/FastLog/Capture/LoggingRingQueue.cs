using System.Runtime.InteropServices;
using FastLog.Backends;
using FastLog.Interop.IoUring;
using FastLog.LogFormat;

namespace FastLog.Capture;

/// <summary>
/// <see cref="LoggingBackend"/> on a queue's io_uring: the inner backend's I/O rides on the ring, and a FLUSH or FUA
/// write that must wait for the log parks its tag until the log writer signals a <see cref="LogWatch"/> (an eventfd
/// read armed on the same ring), so the queue thread never blocks.
/// </summary>
/// <remarks>
/// The ordering is exactly <see cref="LoggingBackend"/>'s (stated there): a WRITE, DISCARD or WRITE_ZEROES enters the
/// log when the inner backend reports it done and before it is reported here; a FLUSH enters the log when it starts,
/// and is reported once the inner flush is done and the log is durable (or written) up to it. A FLUSH whose inner flush
/// fails is voided by a <see cref="FailedFlushMark"/>, as in <see cref="LoggingBackend.Flush"/>. Over a volatile cache
/// (which serves synchronously, so each request completes inside <see cref="Start"/>) a request holds the cache's lock
/// from start to log append, as <see cref="LoggingBackend"/> explains.
/// </remarks>
internal sealed unsafe class LoggingRingQueue : IRingBackendQueue, IRequestSink, IDisposable
{
    private readonly LoggingBackend _backend;
    private readonly CaptureLog _log;
    private readonly LogDurability _durability;
    private readonly BackendRing _ring;
    private readonly IRequestSink _sink;
    private readonly IRingBackendQueue _inner;
    private readonly BlockRequest[] _requests;
    private readonly nint[] _buffers;
    private readonly long[] _flushEnds;
    private readonly long[] _waitAddresses;
    private readonly ushort[] _waitTags;
    private readonly LogWatch _watch;
    private readonly ulong* _watchCount;
    private int _waiting;
    private bool _watchArmed;

    public LoggingRingQueue(LoggingBackend backend, IBlockBackend inner, BackendRing ring, IRequestSink sink)
    {
        _backend = backend;
        _log = backend.Log;
        _durability = backend.FlushWaitsFor;
        _ring = ring;
        _sink = sink;
        _requests = new BlockRequest[ring.Depth];
        _buffers = new nint[ring.Depth];
        _flushEnds = new long[ring.Depth];
        _waitAddresses = new long[ring.Depth];
        _waitTags = new ushort[ring.Depth];
        _inner = inner is IRingBackend ringBackend ? ringBackend.OpenQueue(ring, this) : new SyncRingQueue(inner, this);
        _watch = _log.Watch(_durability);
        _watchCount = (ulong*)NativeMemory.Alloc(sizeof(ulong));
    }

    public void Start(ushort tag, in BlockRequest request, byte* buffer)
    {
        bool ordered = request.Op != BlockOp.Read && _backend.EnterOrder();
        try
        {
            StartOrdered(tag, request, buffer, ordered);
        }
        finally
        {
            _backend.ExitOrder(ordered);
        }
    }

    private void StartOrdered(ushort tag, in BlockRequest request, byte* buffer, bool ordered)
    {
        _requests[tag] = request;
        _buffers[tag] = (nint)buffer;
        if (request.Op == BlockOp.Flush)
        {
            if (ordered && _backend.PoweredOff)
            {
                _sink.Completed(tag, -Interop.Libc.EIO); // after the cut a FLUSH never enters the log
                return;
            }
            long end = _log.AppendFlush();
            if (end < 0)
            {
                _sink.Completed(tag, (int)end);
                return;
            }
            _flushEnds[tag] = end;
            _log.RequestFromWriter(end, _durability); // the log is written or synced while the inner backend flushes
        }
        else if (request.Op != BlockOp.Read && _log.Failure != 0)
        {
            _sink.Completed(tag, _log.Failure);
            return;
        }
        _inner.Start(tag, request, buffer);
    }

    /// <summary>The inner backend finished <paramref name="tag"/>'s request.</summary>
    public void Completed(ushort tag, int result)
    {
        BlockRequest request = _requests[tag];
        if (result < 0)
            _backend.BackingFailed(request.Op switch
            {
                BlockOp.Read => "read",
                BlockOp.Write => "write",
                BlockOp.Flush => "flush",
                BlockOp.Discard => "discard",
                _ => "write-zeroes",
            }, request.Offset, request.Length, result);
        if (result < 0 && request.Op == BlockOp.Flush)
            result = _backend.FlushFailed(_flushEnds[tag], result);
        if (result < 0 || request.Op == BlockOp.Read)
        {
            _sink.Completed(tag, result);
            return;
        }
        long end = request.Op switch
        {
            BlockOp.Write => _log.AppendWrite(request.Offset, new ReadOnlySpan<byte>((byte*)_buffers[tag], (int)request.Length),
                request.Fua ? LogEntryFlags.Fua : LogEntryFlags.None),
            BlockOp.Discard => _log.AppendDiscard(request.Offset, request.Length),
            BlockOp.WriteZeroes => _log.AppendZeroes(request.Offset, request.Length),
            _ => _flushEnds[tag],
        };
        if (end >= 0 && _backend.CanPowerFail)
            _backend.Completed(request.Op); // under the cache's lock: Start holds it and the cache completes inside it
        if (end < 0)
            _sink.Completed(tag, (int)end);
        else if (request.Op == BlockOp.Flush || request.Fua)
            WaitForLog(tag, end);
        else
            _sink.Completed(tag, 0);
    }

    public void OnCompletion(ushort tag, byte layer, int result)
    {
        if (layer != BackendRing.LogWatchLayer)
        {
            _inner.OnCompletion(tag, layer, result);
            return;
        }
        _watchArmed = false;
        CompleteReachedWaits();
    }

    private void WaitForLog(ushort tag, long address)
    {
        if (_log.Settled(address, _durability))
        {
            _sink.Completed(tag, LogResult(address));
            return;
        }
        _waitTags[_waiting] = tag;
        _waitAddresses[_waiting] = address;
        _waiting++;
        CompleteReachedWaits();
    }

    /// <summary>Reports every parked request the log has reached, then wants a signal for the lowest one left.</summary>
    private void CompleteReachedWaits()
    {
        while (_waiting > 0)
        {
            long lowest = long.MaxValue;
            for (int i = _waiting - 1; i >= 0; i--)
            {
                long address = _waitAddresses[i];
                if (_log.Settled(address, _durability))
                {
                    ushort tag = _waitTags[i];
                    _waiting--;
                    _waitTags[i] = _waitTags[_waiting];
                    _waitAddresses[i] = _waitAddresses[_waiting];
                    _sink.Completed(tag, LogResult(address));
                }
                else
                    lowest = Math.Min(lowest, address);
            }
            if (_waiting == 0 || _watch.Want(lowest))
                break;
        }
        if (_waiting > 0 && !_watchArmed)
        {
            SqePrep.Read(_ring.NextSqe(), _watch.EventFd, _watchCount, sizeof(ulong), 0,
                BackendRing.UserData(BackendRing.NoTag, BackendRing.LogWatchLayer));
            _watchArmed = true;
        }
    }

    private int LogResult(long address) => _log.Reached(address, _durability) ? 0 : _log.Failure;

    /// <summary>After the queue's ring is closed (so no read is armed on the watch any more).</summary>
    public void Dispose()
    {
        _watch.Dispose();
        NativeMemory.Free(_watchCount);
        (_inner as IDisposable)?.Dispose();
    }
}
