using System.Runtime.InteropServices;
using FastLog.Backends;
using FastLog.Interop;
using FastLog.Interop.IoUring;

namespace FastLog.Frontends.Ublk;

/// <summary>
/// One ublk hardware queue: a dedicated thread with its own io_uring, the queue's descriptor array and one
/// 4 KiB-aligned buffer per tag. The backend's I/O rides on the same ring (<see cref="IRingBackend"/>), so every tag can
/// have a request in flight and no request takes a thread hop.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>Only this queue's thread touches its ring and issues its FETCH/COMMIT commands: ublk binds a tag (a queue
/// before 6.16) to the thread that fetched it and answers other threads with -EINVAL.</item>
/// <item>A tag is in one of two states: armed (its FETCH or COMMIT_AND_FETCH is in the kernel) or in service (the
/// backend has its request). Its commit is queued exactly when the backend reports the request done, so the SQ, sized
/// to twice the depth, has room for every tag's one command or one backend operation, plus a backend's watch.</item>
/// <item>user_data is the tag for ublk commands; backend operations carry <see cref="BackendRing.UserData"/>.</item>
/// <item><c>desc[tag]</c> is read only after that tag's CQE, and its buffer is not reused until its commit is sent.</item>
/// <item>A tag retires on UBLK_IO_RES_ABORT (device stopping, never resubmitted); the thread ends when all are retired,
/// or, as a fallback for kernels that leave tags armed after STOP_DEV, once stopping was requested and
/// <see cref="StopGrace"/> passed without a completion. Requests still in service are then drained first, because
/// the kernel may still be reading or writing their buffers. Closing the ring then cancels what is left.</item>
/// </list>
/// </remarks>
internal sealed unsafe class UblkQueue : IRequestSink
{
    private static readonly long PollIntervalNs = 500_000_000;
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly IBlockBackend _backend;
    private readonly int _charFd;
    private readonly ushort _queueId;
    private readonly int _depth;
    private readonly int _bufferBytes;
    private readonly bool _legacy;
    private readonly byte[]? _cpuMask;
    private readonly Action<string>? _say;
    private readonly BlockRequest[] _requests;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopRequested;
    private IoUringRing? _ring;
    private byte* _buffers;
    private int _inService;

    /// <param name="cpuMask">The CPUs that submit to this queue (GET_QUEUE_AFFINITY); the thread pins itself there so
    /// the kernel's task work for a request runs where the request was issued. Null: no pinning.</param>
    public UblkQueue(IBlockBackend backend, int charFd, ushort queueId, int depth, int bufferBytes, bool legacy, byte[]? cpuMask,
        Action<string>? say = null)
    {
        _say = say;
        _cpuMask = cpuMask;
        _backend = backend;
        _charFd = charFd;
        _queueId = queueId;
        _depth = depth;
        _bufferBytes = bufferBytes;
        _legacy = legacy;
        _requests = new BlockRequest[depth];
        _thread = new Thread(Run) { IsBackground = true, Name = $"ublk-q{queueId}" };
    }

    /// <summary>Completes once every tag's FETCH_REQ was submitted (faults if setting up the queue failed).</summary>
    public Task Ready => _ready.Task;

    /// <summary>Completes when the thread has released its ring, mapping and buffers.</summary>
    public Task Exited => _exited.Task;

    /// <summary>Requests served so far (diagnostics; written by the queue thread only).</summary>
    public long Served { get; private set; }

    public void Start() => _thread.Start();

    /// <summary>Tells the thread STOP_DEV returned, arming the fallback exit if the kernel does not abort the tags.</summary>
    public void RequestStop() => _stopRequested = true;

    private void Run()
    {
        UblksrvIoDesc* descriptors = null;
        nuint descriptorBytes = DescriptorMapLength(_depth);
        IRingBackendQueue? backendQueue = null;
        try
        {
            PinToQueueCpus();
            // Created on this thread: SINGLE_ISSUER binds the ring to its creator, DEFER_TASKRUN runs ublk's
            // completions only when this thread waits, which it does in every loop iteration.
            IoUringSetupFlags sqe = _legacy ? IoUringSetupFlags.Sqe128 : IoUringSetupFlags.None; // 6.0–6.2 wanted SQE128 for I/O too
            _ring = IoUringRing.CreateBest((uint)_depth * 2, 0,
                sqe | IoUringSetupFlags.SingleIssuer | IoUringSetupFlags.DeferTaskrun,
                sqe | IoUringSetupFlags.CoopTaskrun,
                sqe);

            void* map = Mman.Mmap(null, descriptorBytes, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_POPULATE, _charFd,
                DescriptorMapOffset(_queueId));
            if (map == Mman.MapFailed)
                throw new IOException($"mmap of ublk queue {_queueId} descriptors failed: {Libc.ErrorText(Libc.Errno)}");
            descriptors = (UblksrvIoDesc*)map;

            _buffers = (byte*)NativeMemory.AlignedAlloc((nuint)_depth * (nuint)_bufferBytes, 4096);
            var backendRing = new BackendRing(_ring, _depth);
            backendQueue = BackendQueues.Open(_backend, backendRing, this);
            for (int tag = 0; tag < _depth; tag++)
                QueueIoCommand(UblkCommand.FetchReq, (ushort)tag, 0);
            int rc = _ring.Submit();
            if (rc < 0)
                throw new IOException($"ublk queue {_queueId}: submitting FETCH_REQ failed: {Libc.ErrorText(-rc)}");
            _ready.TrySetResult();

            Serve(descriptors, backendQueue);
        }
        catch (Exception e)
        {
            if (!_ready.TrySetException(e))
                _say?.Invoke($"fastlog: ublk queue {_queueId} failed: {e.Message}");
        }
        finally
        {
            _ring?.Dispose(); // cancels any command still armed
            (backendQueue as IDisposable)?.Dispose();
            if (descriptors != null)
                Mman.Munmap(descriptors, descriptorBytes);
            if (_buffers != null)
                NativeMemory.AlignedFree(_buffers);
            _exited.TrySetResult();
        }
    }

    private void PinToQueueCpus()
    {
        if (_cpuMask is null)
            return;
        fixed (byte* mask = _cpuMask)
        {
            if (Sched.SetAffinity(0, (nuint)_cpuMask.Length, mask) != 0) // not fatal: a cpuset may forbid those CPUs
                _say?.Invoke($"fastlog: ublk queue {_queueId}: sched_setaffinity failed: {Libc.ErrorText(Libc.Errno)}");
        }
    }

    private void Serve(UblksrvIoDesc* descriptors, IRingBackendQueue backend)
    {
        IoUringRing ring = _ring!;
        int armed = _depth;
        long lastProgress = Environment.TickCount64;
        while (armed > 0 || _inService > 0)
        {
            int rc = ring.SubmitAndWait(1, PollIntervalNs); // sends the commits and backend I/O queued since the last call
            if (rc < 0)
                throw new IOException($"ublk queue {_queueId}: io_uring_enter failed: {Libc.ErrorText(-rc)}");

            uint reaped = 0;
            for (IoUringCqe* cqe; (cqe = ring.PeekCqe()) != null; reaped++)
            {
                ulong userData = cqe->UserData;
                int result = cqe->Result;
                ring.AdvanceCq(); // the CQE is copied out; the kernel may reuse the slot
                if (BackendRing.IsBackend(userData, out ushort backendTag, out byte layer))
                {
                    backend.OnCompletion(backendTag, layer, result);
                    continue;
                }
                ushort tag = (ushort)userData;
                if (result == UblkConstants.IoResultOk)
                {
                    if (armed == 0)
                        continue; // draining after the fallback exit: the tag is not ours to serve any more
                    _inService++;
                    if (UblkRequestDispatch.TryTranslate(descriptors[tag], _backend.Size, _bufferBytes, out BlockRequest request, out int error))
                    {
                        _requests[tag] = request;
                        backend.Start(tag, request, _buffers + (nuint)tag * (nuint)_bufferBytes);
                    }
                    else
                    {
                        _requests[tag] = default;
                        Completed(tag, error);
                    }
                }
                else
                {
                    // ABORT: the device is going away. Anything else (-EINVAL, -EBUSY) is a server bug the kernel
                    // refused; the tag is no longer ours either way.
                    if (result != UblkConstants.IoResultAbort)
                        _say?.Invoke($"fastlog: ublk queue {_queueId} tag {tag}: kernel returned {Libc.ErrorText(-result)}");
                    if (armed > 0)
                        armed--;
                }
            }

            if (reaped > 0)
                lastProgress = Environment.TickCount64;
            else if (armed > 0 && _stopRequested && Environment.TickCount64 - lastProgress > (long)StopGrace.TotalMilliseconds)
                armed = 0; // fallback exit: serve nothing new, drain what is in service
        }
        ring.Submit();
    }

    /// <summary>The backend finished <paramref name="tag"/>'s request: commit it and fetch the tag's next one.</summary>
    public void Completed(ushort tag, int result)
    {
        _inService--;
        Served++;
        QueueIoCommand(UblkCommand.CommitAndFetchReq, tag, UblkRequestDispatch.CommitResult(_requests[tag], result));
    }

    private void QueueIoCommand(UblkCommand command, ushort tag, int result)
    {
        IoUringSqe* sqe = _ring!.TryGetSqe(); // never null: one command or backend operation per tag, SQ ≥ 2 × depth
        var cmd = (UblksrvIoCmd*)SqePrep.UringCommand(sqe, _charFd, command.Op(_legacy), tag);
        cmd->QueueId = _queueId;
        cmd->Tag = tag;
        cmd->Result = result;
        cmd->Address = (ulong)(_buffers + (nuint)tag * (nuint)_bufferBytes);
    }

    /// <summary>Queue q's descriptors start at q × a fixed stride sized for the maximum depth (not this device's depth).</summary>
    internal static long DescriptorMapOffset(int queueId)
        => UblkConstants.DescriptorOffset + queueId * RoundUpToPage(UblkConstants.MaxQueueDepth * sizeof(UblksrvIoDesc));

    /// <summary>The mapping must be exactly the depth's descriptors rounded up to a page; the kernel rejects other lengths.</summary>
    internal static nuint DescriptorMapLength(int depth) => (nuint)RoundUpToPage(depth * sizeof(UblksrvIoDesc));

    private static long RoundUpToPage(long bytes)
    {
        long page = Environment.SystemPageSize;
        return (bytes + page - 1) / page * page;
    }
}
