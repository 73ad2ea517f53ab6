using FastLog.Backends;
using FastLog.Interop;

namespace FastLog.Frontends.Ublk;

/// <summary>
/// Serves an <see cref="IBlockBackend"/> as /dev/ublkbN through the kernel's ublk driver (copy mode):
/// N queues × depth D, one thread and io_uring per queue, the backend's I/O on the same ring (<see cref="UblkQueue"/>).
/// </summary>
/// <remarks>
/// Lifecycle (the kernel's drivers/block/ublk_drv.c and its selftests' kublk): ADD_DEV → SET_PARAMS → open /dev/ublkcN → queue threads FETCH every tag
/// → START_DEV from the calling thread (never a queue thread: it blocks until all tags are fetched and then reads
/// the partition table through the queues) → serve → STOP_DEV → queues see ABORT and exit → DEL_DEV.
/// The device is created without user recovery, so if this process dies (even by SIGKILL) the kernel fails in-flight
/// I/O and removes /dev/ublkbN instead of leaving tasks hung on it.
/// </remarks>
public sealed class UblkFrontend : IBlockFrontend
{
    private static readonly TimeSpan CharDeviceWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan QueueExitWait = TimeSpan.FromSeconds(15);

    private readonly IBlockBackend _backend;
    private readonly FrontendOptions _options;
    private readonly string _controlPath;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lifecycle = new();
    private readonly Action<string>? _say;
    private UblkControl? _control;
    private UblkQueue[] _queues = [];
    private int _charFd = -1;
    private uint _devId = UblkConstants.AutoDevId;
    private bool _added, _started, _stopped;

    /// <param name="say">Hears what the frontend has to tell the user (see <see cref="IBlockFrontend"/>).</param>
    public UblkFrontend(IBlockBackend backend, FrontendOptions options, Action<string>? say = null)
        : this(backend, options, UblkConstants.ControlPath, say)
    {
    }

    /// <summary>With another control node path (tests use a missing one to check the unavailable message).</summary>
    internal UblkFrontend(IBlockBackend backend, FrontendOptions options, string controlPath, Action<string>? say = null)
    {
        _say = say;
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        backend.Capabilities.Validate();
        if (options.Queues is < 1 or > 4096 || options.QueueDepth is < 1 or > UblkConstants.MaxQueueDepth)
            throw new ArgumentOutOfRangeException(nameof(options), "queues and depth must each be between 1 and 4096");
        _backend = backend;
        _options = options;
        _controlPath = controlPath;
    }

    /// <summary>The kernel's device id N (/dev/ublkbN), once started.</summary>
    public int DeviceId => (int)_devId;

    public Task Completion => _completion.Task;

    /// <summary>Whether control commands use the pre-6.4 raw numbers (diagnostics).</summary>
    public bool LegacyCommands => _control?.Legacy ?? false;

    /// <summary>Requests served by all queues so far.</summary>
    public long RequestsServed => _queues.Sum(q => q.Served);

    public string Start()
    {
        lock (_lifecycle)
        {
            if (_added)
                throw new InvalidOperationException("a ublk frontend starts once; create a new one to serve again");
            _added = true;
        }
        try
        {
            _control = UblkControl.Open(_controlPath);
            // 6.5+ (GET_FEATURES answers) uses encoded numbers, so dead devices go first and their ids are reused;
            // before that only ADD_DEV tells which numbers the driver takes.
            if (_control.Features is not null)
                RemoveDevicesOfDeadServers(_control, UblkConstants.AutoDevId);
            UblksrvCtrlDevInfo info = default;
            info.NrHwQueues = (ushort)_options.Queues;
            info.QueueDepth = (ushort)_options.QueueDepth;
            info.MaxIoBufBytes = UblkDeviceParams.DefaultMaxIoBytes;
            info.DevId = UblkConstants.AutoDevId;
            _control.AddDevice(ref info);
            _devId = info.DevId;
            if (_control.Features is null)
                RemoveDevicesOfDeadServers(_control, _devId);

            UblkParams parameters = UblkDeviceParams.Build(_backend.Size, _backend.Capabilities, info.MaxIoBufBytes);
            _control.SetParams(_devId, parameters);

            _charFd = OpenCharDevice(UblkConstants.CharDevicePrefix + _devId);
            _queues = new UblkQueue[info.NrHwQueues]; // the kernel clamps the queue count to the CPUs
            for (int q = 0; q < _queues.Length; q++)
                _queues[q] = new UblkQueue(_backend, _charFd, (ushort)q, info.QueueDepth, (int)info.MaxIoBufBytes, _control.Legacy,
                    _control.GetQueueAffinity(_devId, q), _say);
            foreach (UblkQueue queue in _queues)
                queue.Start();
            // A queue that failed to set up would leave START_DEV waiting for its tags forever: surface it first.
            Task.WhenAll(_queues.Select(q => q.Ready)).GetAwaiter().GetResult();
            _ = Task.WhenAll(_queues.Select(q => q.Exited)).ContinueWith(_ => OnQueuesExited(), TaskScheduler.Default);

            _control.StartDevice(_devId, Environment.ProcessId);
            _started = true;
            return UblkConstants.BlockDevicePrefix + _devId;
        }
        catch
        {
            Stop();
            throw;
        }
    }

    /// <summary>
    /// Deletes the ublk devices that servers killed before their DEL_DEV left behind: a killed server's block device
    /// goes away, but its device id, /dev/ublkcN and the driver's state for it stay until someone deletes them, so they
    /// pile up and every later device gets a higher id. A device is deleted only when it is dead (no block device) and
    /// its server is gone: the kernel sets its pid to -1 when the server's char device is released (seen on 6.12), or
    /// the pid START_DEV recorded names no process, and nobody holds /dev/ublkcN. A server between ADD_DEV and START_DEV has pid 0 (what ADD_DEV
    /// passed) and is left alone.
    /// Best effort: a device this process may not query or delete is left alone; <paramref name="own"/> is never touched.
    /// </summary>
    private void RemoveDevicesOfDeadServers(UblkControl control, uint own)
    {
        string[] nodes;
        try
        {
            nodes = Directory.GetFiles(Path.GetDirectoryName(UblkConstants.CharDevicePrefix)!, Path.GetFileName(UblkConstants.CharDevicePrefix) + "*");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (string node in nodes)
        {
            if (!uint.TryParse(node.AsSpan(UblkConstants.CharDevicePrefix.Length), System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out uint id) || id == own)
                continue;
            UblksrvCtrlDevInfo info;
            try
            {
                info = control.GetDeviceInfo(id);
            }
            catch (IOException)
            {
                continue;
            }
            bool serverGone = info.UblksrvPid == -1 || (info.UblksrvPid > 0 && !Libc.ProcessExists(info.UblksrvPid));
            if (info.State != UblkConstants.StateDead || !serverGone || IsHeld(node))
                continue;
            if (control.DeleteDevice(id) == 0)
                _say?.Invoke($"fastlog: deleted ublk device {id} (/dev/ublkc{id}), left by a server that died without deleting it");
        }
    }

    /// <summary>True when some process holds <paramref name="charDevice"/> (the driver admits one opener: EBUSY): a
    /// server whose pid this PID namespace cannot see, or one recovering the device. Deleting such a device would
    /// also block (DEL_DEV waits for the last reference before 6.9).</summary>
    private static bool IsHeld(string charDevice)
    {
        int fd = Libc.Open(charDevice, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            return true; // EBUSY, or anything else: leave it alone
        Libc.Close(fd);
        return false;
    }

    private static int OpenCharDevice(string path)
    {
        // udev (where there is one) may still be creating or chown'ing the node right after ADD_DEV.
        long deadline = Environment.TickCount64 + (long)CharDeviceWait.TotalMilliseconds;
        while (true)
        {
            int fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            if (fd >= 0)
                return fd;
            int errno = Libc.Errno;
            if ((errno != Libc.ENOENT && errno != Libc.EACCES) || Environment.TickCount64 > deadline)
                throw new IOException($"{path}: {Libc.ErrorText(errno)}");
            Thread.Sleep(10);
        }
    }

    /// <summary>Stops serving and deletes the kernel device; safe to call twice, from any thread but a queue's.</summary>
    public void Stop()
    {
        lock (_lifecycle)
        {
            if (_stopped)
                return;
            _stopped = true;
        }
        UblkControl? control = _control;
        if (control is not null && _devId != UblkConstants.AutoDevId)
        {
            if (_started)
            {
                int rc = control.StopDevice(_devId); // queues keep serving while the disk drains
                if (rc < 0)
                    _say?.Invoke($"fastlog: ublk STOP_DEV failed: {Libc.ErrorText(-rc)}");
            }
            foreach (UblkQueue queue in _queues)
                queue.RequestStop();
            if (!_started)
                CloseCharDevice(); // never started: the fetched commands are cancelled when the rings close
            if (!Task.WhenAll(_queues.Select(q => q.Exited)).Wait(QueueExitWait))
                _say?.Invoke("fastlog: ublk queues did not exit in time; deleting the device anyway");
            CloseCharDevice();
            int del = control.DeleteDevice(_devId);
            if (del < 0 && del != -Libc.ENODEV && del != -Libc.ENOENT)
                _say?.Invoke($"fastlog: ublk DEL_DEV failed: {Libc.ErrorText(-del)}");
        }
        control?.Dispose();
        _control = null;
        OnQueuesExited();
    }

    private void CloseCharDevice()
    {
        int fd = Interlocked.Exchange(ref _charFd, -1);
        if (fd >= 0)
            Libc.Close(fd);
    }

    private void OnQueuesExited() => _completion.TrySetResult();

    public void Dispose() => Stop();
}
