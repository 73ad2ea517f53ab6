using System.Runtime.InteropServices;
using FastLog.Backends;
using FastLog.Interop;
using FastLog.Interop.IoUring;

namespace FastLog.Frontends.Ublk;

/// <summary>
/// One ublk hardware queue: a dedicated thread with its own io_uring, the queue's descriptor array and one
/// 4 KiB-aligned buffer per tag. The thread calls the backend inline, so there is no thread hop per request.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>Only this queue's thread touches its ring and issues its FETCH/COMMIT commands: ublk binds a tag (a queue
/// before 6.16) to the thread that fetched it and answers other threads with -EINVAL.</item>
/// <item>Each tag has exactly one command in flight (FETCH, then COMMIT_AND_FETCH after each request), so the SQ,
/// sized to the depth, never fills. user_data is the tag.</item>
/// <item><c>desc[tag]</c> is read only after that tag's CQE, and its buffer is not reused until its commit is sent.</item>
/// <item>A tag retires on UBLK_IO_RES_ABORT (device stopping, never resubmitted); the thread ends when all are retired,
/// or, as a fallback for kernels that leave tags armed after STOP_DEV, once stopping was requested and
/// <see cref="StopGrace"/> passed without a completion. Closing the ring then cancels what is left.</item>
/// </list>
/// </remarks>
internal sealed unsafe class UblkQueue
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
    private readonly Thread _thread;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopRequested;

    /// <param name="cpuMask">The CPUs that submit to this queue (GET_QUEUE_AFFINITY); the thread pins itself there so
    /// the kernel's task work for a request runs where the request was issued. Null: no pinning.</param>
    public UblkQueue(IBlockBackend backend, int charFd, ushort queueId, int depth, int bufferBytes, bool legacy, byte[]? cpuMask)
    {
        _cpuMask = cpuMask;
        _backend = backend;
        _charFd = charFd;
        _queueId = queueId;
        _depth = depth;
        _bufferBytes = bufferBytes;
        _legacy = legacy;
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
        IoUringRing? ring = null;
        UblksrvIoDesc* descriptors = null;
        nuint descriptorBytes = DescriptorMapLength(_depth);
        byte* buffers = null;
        try
        {
            PinToQueueCpus();
            // Created on this thread: SINGLE_ISSUER binds the ring to its creator, DEFER_TASKRUN runs ublk's
            // completions only when this thread waits, which it does in every loop iteration.
            IoUringSetupFlags sqe = _legacy ? IoUringSetupFlags.Sqe128 : IoUringSetupFlags.None; // 6.0–6.2 wanted SQE128 for I/O too
            ring = IoUringRing.CreateBest((uint)_depth, 0,
                sqe | IoUringSetupFlags.SingleIssuer | IoUringSetupFlags.DeferTaskrun,
                sqe | IoUringSetupFlags.CoopTaskrun,
                sqe);

            void* map = Mman.Mmap(null, descriptorBytes, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_POPULATE, _charFd,
                DescriptorMapOffset(_queueId));
            if (map == Mman.MapFailed)
                throw new IOException($"mmap of ublk queue {_queueId} descriptors failed: {Libc.ErrorText(Libc.Errno)}");
            descriptors = (UblksrvIoDesc*)map;

            buffers = (byte*)NativeMemory.AlignedAlloc((nuint)_depth * (nuint)_bufferBytes, 4096);
            for (int tag = 0; tag < _depth; tag++)
                QueueIoCommand(ring, UblkCommand.FetchReq, (ushort)tag, 0, buffers);
            int rc = ring.Submit();
            if (rc < 0)
                throw new IOException($"ublk queue {_queueId}: submitting FETCH_REQ failed: {Libc.ErrorText(-rc)}");
            _ready.TrySetResult();

            Serve(ring, descriptors, buffers);
        }
        catch (Exception e)
        {
            if (!_ready.TrySetException(e))
                Console.Error.WriteLine($"ublk queue {_queueId} failed: {e.Message}");
        }
        finally
        {
            ring?.Dispose(); // cancels any command still armed
            if (descriptors != null)
                Mman.Munmap(descriptors, descriptorBytes);
            if (buffers != null)
                NativeMemory.AlignedFree(buffers);
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
                Console.Error.WriteLine($"ublk queue {_queueId}: sched_setaffinity failed: {Libc.ErrorText(Libc.Errno)}");
        }
    }

    private void Serve(IoUringRing ring, UblksrvIoDesc* descriptors, byte* buffers)
    {
        int armed = _depth;
        long lastProgress = Environment.TickCount64;
        while (armed > 0)
        {
            int rc = ring.SubmitAndWait(1, PollIntervalNs); // sends the previous batch's commits in the same call
            if (rc < 0)
                throw new IOException($"ublk queue {_queueId}: io_uring_enter failed: {Libc.ErrorText(-rc)}");

            uint reaped = 0;
            for (IoUringCqe* cqe; (cqe = ring.PeekCqe()) != null; reaped++)
            {
                ushort tag = (ushort)cqe->UserData;
                int result = cqe->Result;
                ring.AdvanceCq(); // the CQE is copied out; the kernel may reuse the slot
                if (result == UblkConstants.IoResultOk)
                {
                    byte* buffer = buffers + (nuint)tag * (nuint)_bufferBytes;
                    int commit = UblkRequestDispatch.Serve(_backend, descriptors[tag], buffer, _bufferBytes);
                    QueueIoCommand(ring, UblkCommand.CommitAndFetchReq, tag, commit, buffers);
                    Served++;
                }
                else
                {
                    // ABORT: the device is going away. Anything else (-EINVAL, -EBUSY) is a server bug the kernel
                    // refused; the tag is no longer ours either way.
                    if (result != UblkConstants.IoResultAbort)
                        Console.Error.WriteLine($"ublk queue {_queueId} tag {tag}: kernel returned {Libc.ErrorText(-result)}");
                    armed--;
                }
            }

            if (reaped > 0)
                lastProgress = Environment.TickCount64;
            else if (_stopRequested && Environment.TickCount64 - lastProgress > (long)StopGrace.TotalMilliseconds)
                break;
        }
        ring.Submit();
    }

    private void QueueIoCommand(IoUringRing ring, UblkCommand command, ushort tag, int result, byte* buffers)
    {
        IoUringSqe* sqe = ring.TryGetSqe(); // never null: one command per tag, SQ ≥ depth
        var cmd = (UblksrvIoCmd*)SqePrep.UringCommand(sqe, _charFd, command.Op(_legacy), tag);
        cmd->QueueId = _queueId;
        cmd->Tag = tag;
        cmd->Result = result;
        cmd->Address = (ulong)(buffers + (nuint)tag * (nuint)_bufferBytes);
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
