using FastLog.Interop;
using FastLog.Interop.IoUring;

namespace FastLog.Backends;

/// <summary>
/// <see cref="FileBackend"/> on a queue's io_uring: READ, WRITE (FUA as RWF_DSYNC) and FLUSH (FSYNC with DATASYNC) are
/// SQEs, so a queue keeps as many in flight as it has tags. A short transfer is resubmitted for the rest. DISCARD and
/// WRITE_ZEROES, rare, run synchronously (io_uring has no BLKDISCARD).
/// </summary>
internal sealed unsafe class FileRingQueue : IRingBackendQueue
{
    private readonly FileBackend _file;
    private readonly BackendRing _ring;
    private readonly IRequestSink _sink;
    private readonly BlockRequest[] _requests;
    private readonly nint[] _buffers;
    private readonly long[] _done;

    public FileRingQueue(FileBackend file, BackendRing ring, IRequestSink sink)
    {
        _file = file;
        _ring = ring;
        _sink = sink;
        _requests = new BlockRequest[ring.Depth];
        _buffers = new nint[ring.Depth];
        _done = new long[ring.Depth];
    }

    public void Start(ushort tag, in BlockRequest request, byte* buffer)
    {
        _requests[tag] = request;
        _buffers[tag] = (nint)buffer;
        _done[tag] = 0;
        switch (request.Op)
        {
            case BlockOp.Read or BlockOp.Write:
                SubmitTransfer(tag);
                break;
            case BlockOp.Flush:
                SqePrep.Fsync(_ring.NextSqe(), _file.Fd, dataOnly: true, BackendRing.UserData(tag, BackendRing.FileLayer));
                break;
            default:
                _sink.Completed(tag, request.ServeSync(_file, buffer));
                break;
        }
    }

    public void OnCompletion(ushort tag, byte layer, int result)
    {
        BlockRequest request = _requests[tag];
        if (request.Op == BlockOp.Flush)
        {
            _sink.Completed(tag, Math.Min(result, 0));
            return;
        }
        if (result is -Libc.EINTR or -Libc.EAGAIN)
        {
            SubmitTransfer(tag);
            return;
        }
        if (result < 0)
        {
            _sink.Completed(tag, result);
            return;
        }
        if (result == 0)
        {
            if (request.Op == BlockOp.Write)
            {
                _sink.Completed(tag, -Libc.EIO);
                return;
            }
            FileBackend.ZeroPastEnd((byte*)_buffers[tag] + _done[tag], request.Length - _done[tag]);
            _done[tag] = request.Length;
        }
        _done[tag] += result;
        if (_done[tag] < request.Length)
            SubmitTransfer(tag);
        else
            _sink.Completed(tag, 0);
    }

    private void SubmitTransfer(ushort tag)
    {
        BlockRequest request = _requests[tag];
        long done = _done[tag];
        IoUringSqe* sqe = _ring.NextSqe();
        byte* data = (byte*)_buffers[tag] + done;
        uint length = (uint)(request.Length - done);
        ulong userData = BackendRing.UserData(tag, BackendRing.FileLayer);
        if (request.Op == BlockOp.Read)
            SqePrep.Read(sqe, _file.Fd, data, length, request.Offset + done, userData);
        else
        {
            SqePrep.Write(sqe, _file.Fd, data, length, request.Offset + done, userData);
            if (request.Fua)
                sqe->OpFlags = IoUringConstants.RwfDsync;
        }
    }
}
