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
/// The ordering is <see cref="LoggingBackend"/>'s, stated there and enforced by the two steps this queue shares with the
/// synchronous path: <see cref="LoggingBackend.Begin"/> when a request starts, <see cref="LoggingBackend.Finish"/> when
/// the inner backend reports it. Only the wait differs: a request the log must reach first is parked here, not blocked on.
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
        _inner = BackendQueues.Open(inner, ring, this);
        _watch = _log.Watch(_durability);
        _watchCount = (ulong*)NativeMemory.Alloc(sizeof(ulong));
    }

    public void Start(ushort tag, in BlockRequest request, byte* buffer)
    {
        bool ordered = request.Op != BlockOp.Read && _backend.EnterOrder();
        try
        {
            _requests[tag] = request;
            _buffers[tag] = (nint)buffer;
            int rc = _backend.Begin(request, fromQueueThread: true, out _flushEnds[tag]);
            if (rc != 0)
                _sink.Completed(tag, rc);
            else
                _inner.Start(tag, request, buffer);
        }
        finally
        {
            _backend.ExitOrder(ordered);
        }
    }

    /// <summary>The inner backend finished <paramref name="tag"/>'s request: over a volatile cache, inside
    /// <see cref="Start"/> and so still in the order.</summary>
    public void Completed(ushort tag, int result)
    {
        LoggedCompletion done = _backend.Finish(_requests[tag], (byte*)_buffers[tag], result, _flushEnds[tag]);
        if (done.LogAddress > 0)
            WaitForLog(tag, done.LogAddress);
        else
            _sink.Completed(tag, done.Result);
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
