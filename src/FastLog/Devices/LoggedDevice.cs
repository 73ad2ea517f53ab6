using FastLog.Backends;
using FastLog.Capture;
using FastLog.Frontends;
using FastLog.Frontends.Fuse;
using FastLog.Frontends.Ublk;
using FastLog.Interop;

namespace FastLog.Devices;

/// <summary>
/// The one way to build a logged device, for `fastlog capture`, embedded use and tests alike: the backing store
/// (O_DIRECT unless it cannot be), optionally a volatile write cache for power-fail injection, the logging backend,
/// and a frontend that shows it all to the kernel (or none, in process). Disposing it removes the kernel device, then
/// closes the log (end mark, final nr_entries, durable) and the backing.
/// </summary>
/// <remarks>The stack: <c>LoggingBackend(VolatileCacheBackend(FileBackend))</c>, each layer optional but the file.</remarks>
public sealed class LoggedDevice : IDisposable
{
    private LoggedDevice(IBlockBackend backend, LoggingBackend? logging, IBlockFrontend? frontend, string? path, string frontendName)
    {
        Backend = backend;
        Logging = logging;
        Frontend = frontend;
        Path = path;
        FrontendName = frontendName;
    }

    /// <summary>The top of the stack: what the frontend serves, and what embedded code reads and writes.</summary>
    public IBlockBackend Backend { get; }
    /// <summary>The logging layer; null when not logging.</summary>
    public LoggingBackend? Logging { get; }
    public IBlockFrontend? Frontend { get; }
    /// <summary>The kernel's block device (/dev/ublkbN, /dev/loopN); null with <see cref="FrontendKind.None"/>.</summary>
    public string? Path { get; }
    /// <summary>"ublk", "fuse" or "none".</summary>
    public string FrontendName { get; }

    /// <summary>How the frontend runs, in words for a status line ("loop without direct I/O", ...), or empty.</summary>
    public string FrontendNotes =>
        Frontend is FuseFrontend { UsesDirectIo: false } ? ", loop without direct I/O"
        : Frontend is UblkFrontend { LegacyCommands: true } ? ", legacy ublk command numbers of kernels 6.0-6.3" : "";

    /// <summary>Builds the stack and starts its frontend. <paramref name="say"/> hears choices made on the user's behalf.</summary>
    /// <exception cref="ArgumentException">The options do not fit together (<see cref="DeviceOptions.Problem"/>).</exception>
    /// <exception cref="IOException">A file, the log or the frontend could not be opened; the message says which and why.</exception>
    public static LoggedDevice Open(DeviceOptions options, Action<string>? say = null)
    {
        if (options.Problem() is { } problem)
            throw new ArgumentException(problem);
        int blockSize = options.LogicalBlockSize;
        IBlockBackend backend = OpenBacking(options.Backing, direct: !options.BufferedBacking, blockSize, say);
        LoggingBackend? logging = null;
        try
        {
            if (options.PowerFail is { } powerFail)
                backend = new VolatileCacheBackend(backend, powerFail.CacheBytes, blockSize, powerFail.Keep);
            if (options.Log is { } log)
                backend = logging = new LoggingBackend(backend, CaptureLog.Create(log, blockSize, new CaptureLogOptions { FlushWaitsFor = options.Durability }),
                    options.PowerFail?.Trigger is { Kind: not PowerFailTriggerKind.Manual and not PowerFailTriggerKind.AfterSeconds } trigger ? trigger : null);
            if (options.Frontend == FrontendKind.None)
                return new LoggedDevice(backend, logging, null, null, "none");
            (IBlockFrontend frontend, string path, string name) = FrontendSelection.Start(backend, options.Frontend, options.FrontendOptions, say);
            return new LoggedDevice(backend, logging, frontend, path, name);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Inserts a named mark into the log (0 or -errno; -EOPNOTSUPP when not logging).</summary>
    public int Mark(string name) => Logging?.Mark(name) ?? -Libc.EOPNOTSUPP;

    /// <summary>
    /// O_DIRECT unless asked otherwise: ublk's per-tag buffers are 4 KiB aligned, and FUSE's WRITE payloads and READ
    /// replies land 4096-aligned, so a flush then only commits, instead of writing back every page since the last one
    /// while requests wait behind it. The page cache where O_DIRECT cannot work: a backing whose direct I/O unit (a
    /// block device's logical block size, a file's as its file system reports it) exceeds the device's (a smaller
    /// request would fail with EINVAL), or a file system that refuses O_DIRECT (tmpfs).
    /// </summary>
    public static FileBackend OpenBacking(string path, bool direct, int logicalBlockSize, Action<string>? say = null)
    {
        if (direct && DirectIoAlignment.Of(path) is { } alignment && alignment > logicalBlockSize)
        {
            say?.Invoke($"fastlog: {path} takes O_DIRECT requests in {alignment}-byte units, more than the logical block " +
                        $"size {logicalBlockSize}: using the page cache");
            direct = false;
        }
        if (direct)
        {
            try
            {
                return FileBackend.Open(path, direct: true, logicalBlockSize: logicalBlockSize);
            }
            catch (IOException e) when (File.Exists(path) && e is not DeviceBusyException) // a missing path is reported by the plain open below
            {
                say?.Invoke($"fastlog: {path}: O_DIRECT refused, using the page cache");
            }
        }
        return FileBackend.Open(path, logicalBlockSize: logicalBlockSize);
    }

    public void Dispose()
    {
        Frontend?.Stop();
        Frontend?.Dispose();
        Backend.Dispose();
    }
}
