using FastLog.Backends;
using FastLog.Interop;

namespace FastLog.Frontends.Fuse;

/// <summary>
/// The backend as one file, <c>disk</c>, in a FUSE mount FastLog serves itself, and a loop device on that file:
/// a logged block device on kernels without ublk. <see cref="Start"/> returns /dev/loopN.
/// </summary>
/// <remarks>
/// <para>Requests reach the backend as loop turns them into file operations: REQ_OP_FLUSH → fsync → FSYNC →
/// <see cref="IBlockBackend.Flush"/>; discard → FALLOCATE punch-hole → Discard; write-zeroes → FALLOCATE
/// (zero-range with NOUNMAP, else punch-hole). Loop has no FUA: a FUA write arrives as WRITE + FSYNC, so the log
/// shows a write followed by a flush where ublk would show one FUA write; both are equally strong.</para>
/// <para>Of the backend's <see cref="DeviceCapabilities"/>, the logical block size is loop's block size (logical and
/// physical alike), and DISCARD and WRITE_ZEROES that the backend does not take are answered EOPNOTSUPP, which loop
/// passes on. Loop decides its cache by itself: it always has a volatile one and no FUA, so a backend without a cache
/// still gets FLUSH (as FSYNC) here.</para>
/// <para>Options: worker threads are
/// max(4, <see cref="FrontendOptions.Queues"/>); <see cref="FrontendOptions.QueueDepth"/> is FUSE's max_background
/// (at least 16), which bounds loop's asynchronous direct I/O in flight.</para>
/// <para>The server never does I/O on the loop device or the mount it serves (that could deadlock); its threads
/// only answer FUSE requests. Teardown detaches loop, unmounts lazily and, if loop is still held by someone
/// after a timeout, aborts the connection so that nothing blocks.</para>
/// </remarks>
public sealed class FuseFrontend : IBlockFrontend
{
    private readonly IBlockBackend _backend;
    private readonly FrontendOptions _options;
    private readonly Action<string>? _say;
    private readonly object _gate = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FuseSession? _session;
    private LoopDevice? _loop;
    private string? _stateDir;
    private string? _mountPoint;
    private uint? _connection;
    private bool _stopped;

    public FuseFrontend(IBlockBackend backend, FrontendOptions options, Action<string>? say = null)
    {
        backend.Capabilities.Validate();
        if (backend.Size % backend.Capabilities.LogicalBlockSize != 0)
            throw new ArgumentException($"backing size {backend.Size} is not a multiple of {backend.Capabilities.LogicalBlockSize}");
        _backend = backend;
        _options = options;
        _say = say;
    }

    /// <summary>Where state lives (the mount point and what to clean up after a kill): /run/fastlog by default.</summary>
    public string StateRoot { get; init; } = FuseStateDirectory.DefaultRoot;

    /// <summary>Ask loop for direct I/O (no page cache between loop and FUSE); falls back to buffered.</summary>
    public bool DirectIo { get; init; } = true;

    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public Task Completion => _completion.Task;

    /// <summary>The loop device, once started.</summary>
    public string? DevicePath => _loop?.Path;

    /// <summary>The FUSE file loop is attached to.</summary>
    public string? FilePath => _mountPoint is null ? null : Path.Combine(_mountPoint, FuseDiskFile.Name);

    /// <summary>Whether loop really uses direct I/O on the FUSE file.</summary>
    public bool UsesDirectIo => _loop?.DirectIo ?? false;

    internal FuseSession? Session => _session;

    public string Start()
    {
        lock (_gate)
        {
            if (_session is not null || _stopped)
                throw new InvalidOperationException("a FuseFrontend starts once");
            FuseStateDirectory.CleanupStale(StateRoot, _say);
            _stateDir = FuseStateDirectory.Create(StateRoot);
            _mountPoint = Path.Combine(_stateDir, "mnt");
            try
            {
                int fd = FuseMount.Mount(_mountPoint);
                _session = new FuseSession(_backend, fd, Math.Max(4, _options.Queues), _options.QueueDepth, _say);
                _session.Start();
                _session.Completion.ContinueWith(_ => _completion.TrySetResult(), TaskScheduler.Default);
                if (!_session.Initialized.Wait(TimeSpan.FromSeconds(10)))
                    throw new IOException("FUSE: the kernel sent no INIT within 10 s");
                _connection = FuseMount.ConnectionId(_mountPoint);
                _loop = LoopDevice.Attach(FilePath!, _backend.Capabilities.LogicalBlockSize, DirectIo);
                FuseStateDirectory.RecordLoop(_stateDir, _loop.Number);
                return _loop.Path;
            }
            catch
            {
                Teardown();
                throw;
            }
        }
    }

    public void Stop()
    {
        lock (_gate)
        {
            if (_stopped)
                return;
            Teardown();
        }
    }

    private void Teardown()
    {
        _stopped = true;
        _loop?.Dispose(); // autoclear: loop lets go of the file once no one has /dev/loopN open
        if (_mountPoint is not null)
            FuseMount.UnmountLazy(_mountPoint);
        if (_session is not null)
        {
            if (!_session.Completion.Wait(StopTimeout))
            {
                _say?.Invoke($"fastlog: {_loop?.Path} is still in use (a filesystem mounted on it?); " +
                             "aborting the FUSE connection: its further I/O fails");
                if (_connection is uint id)
                    FuseMount.Abort(id);
                _session.Completion.Wait(TimeSpan.FromSeconds(5));
            }
            if (_session.Completion.IsCompleted)
                _session.Dispose();
        }
        if (_stateDir is not null && (_session is null || _session.Completion.IsCompleted))
            FuseStateDirectory.Remove(_stateDir);
        _completion.TrySetResult();
    }

    public void Dispose() => Stop();
}
