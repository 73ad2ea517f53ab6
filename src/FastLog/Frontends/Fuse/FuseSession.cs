using System.Runtime.InteropServices;
using FastLog.Backends;
using FastLog.Interop;

namespace FastLog.Frontends.Fuse;

/// <summary>
/// Serves a FUSE mount that holds the device as one file (<see cref="FuseDiskFile"/>), speaking the protocol on
/// /dev/fuse directly. Several worker threads each read requests from their own clone of the session fd
/// (FUSE_DEV_IOC_CLONE), into preallocated native buffers: nothing is allocated per request. The file's I/O becomes
/// backend requests by <see cref="FuseRequestDispatch"/>'s rules.
/// </summary>
internal sealed unsafe class FuseSession : IDisposable
{
    public const int MaxWrite = 1 << 20;           // negotiated with FUSE_MAX_PAGES (256 pages)
    private const int WriteHeaders = 40 + 40;       // fuse_in_header + fuse_write_in
    private const int Align = 4096;
    // A WRITE's payload lands 4096-aligned (so an O_DIRECT backend takes it as is); the kernel wants room
    // for at least max_write plus headers, and never less than FUSE_MIN_READ_BUFFER.
    private const int InBufferSize = Align + MaxWrite + Align;
    private const int OutBufferSize = Align + MaxWrite;
    private const int WarmupRequests = 64;

    private readonly IBlockBackend _backend;
    private readonly Action<string>? _say;
    private readonly Action<BlockRequest, Exception> _backendThrew; // made once: no allocation per request
    private int _backendExceptions;
    private readonly int _masterFd;
    private readonly int _threads;
    private readonly ushort _maxBackground;
    private readonly Thread[] _workers;
    private readonly int[] _fds;
    private readonly long[] _allocated;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private int _disposed;
    private int _failures;
    private volatile int _lastUnexpectedErrno;

    /// <summary>
    /// <paramref name="masterFd"/> is an open /dev/fuse fd that is already mounted (the session owns it from now on).
    /// </summary>
    public FuseSession(IBlockBackend backend, int masterFd, int threads, int maxBackground, Action<string>? say = null)
    {
        _say = say;
        _backendThrew = BackendThrew;
        _backend = backend;
        _masterFd = masterFd;
        _threads = Math.Max(1, threads);
        _maxBackground = (ushort)Math.Clamp(maxBackground, 16, 4096);
        _workers = new Thread[_threads];
        _fds = new int[_threads];
        _allocated = new long[_threads];
        Array.Fill(_allocated, -1);
    }

    /// <summary>Completes when every worker saw the connection end (unmount or abort).</summary>
    public Task Completion => _completion.Task;

    /// <summary>Completes when INIT was answered: the mount is usable.</summary>
    public Task Initialized => _initialized.Task;

    /// <summary>Negotiated protocol minor version (after INIT).</summary>
    public uint ProtocolMinor { get; private set; }

    /// <summary>Bytes the workers allocated on the managed heap since their warm-up (test hook; -1 before it).</summary>
    public long SteadyStateAllocatedBytes
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _allocated.Length; i++) sum += Math.Max(0, Volatile.Read(ref _allocated[i]));
            return sum;
        }
    }

    /// <summary>How many workers passed warm-up.</summary>
    public int WarmWorkers
    {
        get
        {
            int warm = 0;
            for (int i = 0; i < _allocated.Length; i++) if (Volatile.Read(ref _allocated[i]) >= 0) warm++;
            return warm;
        }
    }

    public int UnexpectedErrors => Volatile.Read(ref _failures);
    public int LastUnexpectedErrno => _lastUnexpectedErrno;

    public void Start()
    {
        _fds[0] = _masterFd;
        for (int i = 1; i < _threads; i++)
        {
            int fd = Libc.Open("/dev/fuse", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            if (fd < 0)
                throw new IOException($"/dev/fuse: {Libc.ErrorText(Libc.Errno)}");
            uint master = (uint)_masterFd;
            if (Libc.Ioctl(fd, FuseConst.DevIocClone, &master) != 0)
            {
                int errno = Libc.Errno;
                Libc.Close(fd);
                throw new IOException($"FUSE_DEV_IOC_CLONE: {Libc.ErrorText(errno)}");
            }
            _fds[i] = fd;
        }
        _running = _threads;
        for (int i = 0; i < _threads; i++)
        {
            int index = i;
            _workers[i] = new Thread(() => Worker(index)) { IsBackground = true, Name = $"fuse-{i}" };
            _workers[i].Start();
        }
    }

    private void Worker(int index)
    {
        int fd = _fds[index];
        byte* inBuffer = (byte*)NativeMemory.AlignedAlloc(InBufferSize, Align);
        byte* outBuffer = (byte*)NativeMemory.AlignedAlloc(OutBufferSize, Align);
        byte* request = inBuffer + Align - WriteHeaders;
        nuint requestRoom = (nuint)(InBufferSize - (Align - WriteHeaders));
        byte* reply = outBuffer + Align - sizeof(FuseOutHeader); // reply payload (READ data) lands aligned
        long served = 0, baseline = 0;
        try
        {
            while (true)
            {
                nint n = Libc.Read(fd, request, requestRoom);
                if (n < 0)
                {
                    int errno = Libc.Errno;
                    if (errno is Libc.EINTR or Libc.EAGAIN or Libc.ENOENT) continue; // ENOENT: interrupted request
                    if (errno != Libc.ENODEV) Unexpected(errno);                     // ENODEV: unmounted / aborted
                    break;
                }
                if (n < sizeof(FuseInHeader)) { Unexpected(Libc.EIO); continue; }
                Dispatch(fd, (FuseInHeader*)request, request + sizeof(FuseInHeader), (int)n - sizeof(FuseInHeader), reply);
                if (++served == WarmupRequests)
                    baseline = GC.GetAllocatedBytesForCurrentThread();
                else if (served > WarmupRequests)
                    Volatile.Write(ref _allocated[index], GC.GetAllocatedBytesForCurrentThread() - baseline);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(inBuffer);
            NativeMemory.AlignedFree(outBuffer);
            if (Interlocked.Decrement(ref _running) == 0)
            {
                _initialized.TrySetException(new IOException("the FUSE connection ended before INIT"));
                _completion.TrySetResult();
            }
        }
    }

    /// <summary>Requests a backend exception failed with EIO (a backend bug; the first is said).</summary>
    public int BackendExceptions => Volatile.Read(ref _backendExceptions);

    private void BackendThrew(BlockRequest request, Exception e)
    {
        if (Interlocked.Increment(ref _backendExceptions) == 1)
            _say?.Invoke($"fastlog: the backend threw on a {request.Op} of {request.Length} bytes at byte {request.Offset} ({e.GetType().Name}: {e.Message}); " +
                         "the request failed with EIO (later ones are only counted)");
    }

    /// <summary>Counts an error of the FUSE connection itself (not a request's result); the first is also said.</summary>
    private void Unexpected(int errno)
    {
        _lastUnexpectedErrno = errno;
        if (Interlocked.Increment(ref _failures) == 1)
            _say?.Invoke($"fastlog: the FUSE connection failed unexpectedly: {Libc.ErrorText(errno)} (later failures are only counted)");
    }

    private void Dispatch(int fd, FuseInHeader* header, byte* body, int bodyLength, byte* reply)
    {
        ulong unique = header->Unique;
        byte* payload = reply + sizeof(FuseOutHeader);
        long size = _backend.Size;
        switch (header->Opcode)
        {
            case FuseOpcode.Init:
                Reply(fd, reply, unique, Init((FuseInitIn*)body, bodyLength, (FuseInitOut*)payload));
                return;

            // The device's I/O, served through BlockRequest's guard: a backend that throws fails its request, not the worker.
            case FuseOpcode.Read:
            {
                BlockRequest read = FuseRequestDispatch.Read((FuseIoIn*)body, size, MaxWrite);
                int rc = read.Length == 0 ? 0 : read.ServeSync(_backend, payload, _backendThrew);
                Reply(fd, reply, unique, rc < 0 ? rc : (int)read.Length);
                return;
            }

            case FuseOpcode.Write:
            {
                var io = (FuseIoIn*)body;
                int rc = FuseRequestDispatch.TryWrite(io, bodyLength, size, out BlockRequest write, out int error)
                    ? write.ServeSync(_backend, body + sizeof(FuseIoIn), _backendThrew) : error;
                if (rc == 0)
                    *(FuseWriteOut*)payload = new FuseWriteOut { Size = io->Size };
                Reply(fd, reply, unique, rc < 0 ? rc : sizeof(FuseWriteOut));
                return;
            }

            case FuseOpcode.FSync:
                Reply(fd, reply, unique, new BlockRequest(BlockOp.Flush, 0, 0).ServeSync(_backend, null, _backendThrew));
                return;

            case FuseOpcode.FAllocate:
            {
                bool serve = FuseRequestDispatch.TryFAllocate((FuseFAllocateIn*)body, size, _backend.Capabilities, out BlockRequest range, out int error);
                Reply(fd, reply, unique, serve ? range.ServeSync(_backend, null, _backendThrew) : error);
                return;
            }

            case FuseOpcode.Lookup:
                Reply(fd, reply, unique, FuseDiskFile.Lookup(header->NodeId, body, bodyLength, size, (FuseEntryOut*)payload));
                return;

            case FuseOpcode.GetAttr:
                Reply(fd, reply, unique, FuseDiskFile.GetAttr(header->NodeId, size, (FuseAttrOut*)payload));
                return;

            case FuseOpcode.SetAttr:
                Reply(fd, reply, unique, FuseDiskFile.SetAttr(header->NodeId, (FuseSetAttrIn*)body, size, (FuseAttrOut*)payload));
                return;

            case FuseOpcode.Open:
            case FuseOpcode.OpenDir:
                Reply(fd, reply, unique, FuseDiskFile.Open(header->NodeId, header->Opcode == FuseOpcode.OpenDir, (FuseOpenOut*)payload));
                return;

            case FuseOpcode.ReadDir:
                Reply(fd, reply, unique, FuseDiskFile.ReadDir(header->NodeId, (FuseIoIn*)body, MaxWrite, payload));
                return;

            case FuseOpcode.StatFs:
                Reply(fd, reply, unique, FuseDiskFile.StatFs(size, (FuseKStatFs*)payload));
                return;

            case FuseOpcode.Release:
            case FuseOpcode.ReleaseDir:
            case FuseOpcode.Flush:      // close(2) of a file handle, not a device flush: loop's flush is FSYNC
            case FuseOpcode.FSyncDir:
            case FuseOpcode.Access:
            case FuseOpcode.Destroy:
                Reply(fd, reply, unique, 0);
                return;

            case FuseOpcode.Forget:
            case FuseOpcode.BatchForget:
            case FuseOpcode.Interrupt:  // every request completes promptly; the kernel gets its reply anyway
                return;                 // these take no reply

            default:
                Reply(fd, reply, unique, -Libc.ENOSYS);
                return;
        }
    }

    private int Init(FuseInitIn* init, int length, FuseInitOut* output)
    {
        if (length < 16 || init->Major != FuseConst.KernelMajor)
        {
            _initialized.TrySetException(new IOException($"FUSE protocol {init->Major}.{init->Minor} is not 7.x"));
            return -Libc.EPROTO;
        }
        uint minor = Math.Min(init->Minor, FuseConst.MaxMinor);
        uint wanted = FuseConst.AsyncRead | FuseConst.BigWrites | FuseConst.AsyncDio | FuseConst.ParallelDirops | FuseConst.MaxPages;
        *output = default;
        output->Major = FuseConst.KernelMajor;
        output->Minor = minor;
        output->MaxReadahead = init->MaxReadahead;
        output->Flags = init->Flags & wanted;
        output->MaxBackground = _maxBackground;
        output->CongestionThreshold = (ushort)(_maxBackground * 3 / 4);
        output->MaxWrite = MaxWrite;
        output->TimeGran = 1;
        output->MaxPages = MaxWrite / 4096;
        ProtocolMinor = minor;
        _initialized.TrySetResult();
        return sizeof(FuseInitOut);
    }

    /// <summary>Sends a reply: <paramref name="result"/> is a payload length (≥0) or a negative errno.</summary>
    private void Reply(int fd, byte* reply, ulong unique, int result)
    {
        var header = (FuseOutHeader*)reply;
        header->Unique = unique;
        header->Error = result < 0 ? result : 0;
        header->Len = (uint)(sizeof(FuseOutHeader) + Math.Max(0, result));
        while (true)
        {
            nint n = Libc.Write(fd, reply, header->Len);
            if (n >= 0) return;
            int errno = Libc.Errno;
            if (errno == Libc.EINTR) continue;
            if (errno is not (Libc.ENOENT or Libc.ENODEV)) // ENOENT: the request was interrupted meanwhile
                Unexpected(errno);
            return;
        }
    }

    /// <summary>Closes the session fds. Call after the connection ended (unmount or abort), or before Start.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (_fds[0] == 0)
            Libc.Close(_masterFd);
        for (int i = 0; i < _threads; i++)
            if (_fds[i] > 0)
                Libc.Close(_fds[i]);
    }
}
