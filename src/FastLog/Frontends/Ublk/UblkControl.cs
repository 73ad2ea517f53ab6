using FastLog.Interop;
using FastLog.Interop.IoUring;

namespace FastLog.Frontends.Ublk;

/// <summary>
/// /dev/ublk-control and its SQE128 io_uring: the device lifecycle commands.
/// </summary>
/// <remarks>
/// Control commands run synchronously in the kernel and START_DEV blocks until every tag is fetched, so callers
/// issue it from a thread that is not a queue thread. Calls are serialized by a lock (the ring is not
/// SINGLE_ISSUER: START and STOP may come from different threads). Kernel-visible buffers (dev_info, params)
/// live on the caller's stack, which is safe because each call waits for its own CQE before returning.
/// </remarks>
internal sealed unsafe class UblkControl : IDisposable
{
    private readonly int _fd;
    private readonly IoUringRing _ring;
    private readonly Lock _lock = new();
    private ulong _nextUserData;

    private UblkControl(int fd, IoUringRing ring)
    {
        _fd = fd;
        _ring = ring;
    }

    /// <summary>Whether commands go out with legacy raw numbers (6.0–6.3) rather than ioctl-encoded ones.</summary>
    public bool Legacy { get; private set; }

    /// <summary>UBLK_F_* the driver supports (GET_FEATURES), or null before 6.5.</summary>
    public ulong? Features { get; private set; }

    /// <summary>Opens the control device; <see cref="UblkUnavailableException"/> says why when it cannot.</summary>
    public static UblkControl Open(string controlPath = UblkConstants.ControlPath)
    {
        int fd = Libc.Open(controlPath, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Libc.Errno;
            throw errno switch
            {
                Libc.ENOENT or Libc.ENODEV => new UblkUnavailableException(UblkUnavailableException.ModuleMissing),
                Libc.EACCES or Libc.EPERM => new UblkUnavailableException(
                    $"{controlPath}: permission denied: ublk devices need root (CAP_SYS_ADMIN)"),
                _ => new UblkUnavailableException($"{controlPath}: {Libc.ErrorText(errno)}"),
            };
        }
        try
        {
            int rc = IoUringRing.TryCreate(4, IoUringSetupFlags.Sqe128, 0, out IoUringRing? ring);
            if (rc < 0)
                throw new UblkUnavailableException(rc == -Libc.EPERM || rc == -Libc.EACCES
                    ? "io_uring is disabled on this system (sysctl kernel.io_uring_disabled); ublk needs it"
                    : $"io_uring_setup failed: {Libc.ErrorText(-rc)}");
            var control = new UblkControl(fd, ring!);
            control.ProbeFeatures();
            return control;
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    private void ProbeFeatures()
    {
        ulong features = 0;
        UblksrvCtrlCmd cmd = default;
        cmd.DevId = UblkConstants.AutoDevId;
        cmd.QueueId = UblkConstants.NoQueue;
        cmd.Address = (ulong)&features;
        cmd.Length = sizeof(ulong);
        int rc = Send(UblkCommand.GetFeatures.Encoded, cmd);
        Features = rc >= 0 ? features : null;
    }

    /// <summary>
    /// ADD_DEV: creates /dev/ublkcN. <paramref name="info"/> goes in zeroed but for the requested geometry and comes
    /// back negotiated (dev_id, flags, max_io_buf_bytes, clamped queue count). Falls back to legacy numbers on 6.0–6.3.
    /// </summary>
    public void AddDevice(ref UblksrvCtrlDevInfo info)
    {
        UblksrvCtrlDevInfo request = info;
        int rc = AddDevice(ref info, legacy: false);
        if (rc < 0 && Features is null && rc != -Libc.EPERM && rc != -Libc.EACCES)
        {
            // Pre-6.5 (no GET_FEATURES): a 6.0–6.3 driver rejects the encoded number; try the raw one.
            info = request;
            int legacyRc = AddDevice(ref info, legacy: true);
            if (legacyRc >= 0)
            {
                Legacy = true;
                return;
            }
        }
        Check(rc, "ADD_DEV");
    }

    private int AddDevice(ref UblksrvCtrlDevInfo info, bool legacy)
    {
        fixed (UblksrvCtrlDevInfo* p = &info)
        {
            UblksrvCtrlCmd cmd = default;
            cmd.DevId = info.DevId;
            cmd.QueueId = UblkConstants.NoQueue;
            cmd.Address = (ulong)p;
            cmd.Length = (ushort)sizeof(UblksrvCtrlDevInfo);
            return Send(UblkCommand.AddDev.Op(legacy), cmd);
        }
    }

    /// <summary>SET_PARAMS; only before START_DEV.</summary>
    public void SetParams(uint devId, in UblkParams parameters)
    {
        UblkParams copy = parameters;
        copy.Length = (uint)sizeof(UblkParams);
        UblksrvCtrlCmd cmd = DeviceCommand(devId);
        cmd.Address = (ulong)&copy;
        cmd.Length = (ushort)sizeof(UblkParams);
        Check(Send(UblkCommand.SetParams.Op(Legacy), cmd), "SET_PARAMS");
    }

    /// <summary>GET_DEV_INFO: the device's current state (tests and diagnostics).</summary>
    public UblksrvCtrlDevInfo GetDeviceInfo(uint devId)
    {
        UblksrvCtrlDevInfo info = default;
        UblksrvCtrlCmd cmd = DeviceCommand(devId);
        cmd.Address = (ulong)&info;
        cmd.Length = (ushort)sizeof(UblksrvCtrlDevInfo);
        Check(Send(UblkCommand.GetDevInfo.Op(Legacy), cmd), "GET_DEV_INFO");
        return info;
    }

    /// <summary>
    /// GET_QUEUE_AFFINITY: the CPUs whose submissions land on <paramref name="queueId"/>, as a cpu_set_t-style bit mask
    /// for sched_setaffinity, or null when the kernel will not say.
    /// </summary>
    public byte[]? GetQueueAffinity(uint devId, int queueId)
    {
        const int maskBytes = 128; // 1024 CPUs; the kernel wants ≥ nr_cpu_ids bits in a multiple of 8 bytes
        byte[] mask = new byte[maskBytes];
        fixed (byte* p = mask)
        {
            UblksrvCtrlCmd cmd = DeviceCommand(devId);
            cmd.Data0 = (ulong)queueId;
            cmd.Address = (ulong)p;
            cmd.Length = maskBytes;
            return Send(UblkCommand.GetQueueAffinity.Op(Legacy), cmd) >= 0 ? mask : null;
        }
    }

    /// <summary>START_DEV: blocks until every queue fetched every tag, then adds /dev/ublkbN (and scans partitions on it).</summary>
    public void StartDevice(uint devId, int serverPid)
    {
        UblksrvCtrlCmd cmd = DeviceCommand(devId);
        cmd.Data0 = (ulong)serverPid;
        Check(Send(UblkCommand.StartDev.Op(Legacy), cmd), "START_DEV");
    }

    /// <summary>STOP_DEV: removes the block device; queues must keep serving until it returns.</summary>
    public int StopDevice(uint devId) => Send(UblkCommand.StopDev.Op(Legacy), DeviceCommand(devId));

    /// <summary>
    /// Deletes the device id. DEL_DEV_ASYNC (6.9+) does not wait for the char device's last reference; plain DEL_DEV
    /// does, so call this after the queues closed their rings, mappings and /dev/ublkcN.
    /// </summary>
    public int DeleteDevice(uint devId)
    {
        if (Features is not null)
        {
            int rc = Send(UblkCommand.DelDevAsync.Encoded, DeviceCommand(devId));
            if (rc != -Libc.EOPNOTSUPP && rc != -Libc.EINVAL && rc != -524 /* ENOTSUPP */)
                return rc;
        }
        return Send(UblkCommand.DelDev.Op(Legacy), DeviceCommand(devId));
    }

    private static UblksrvCtrlCmd DeviceCommand(uint devId)
    {
        UblksrvCtrlCmd cmd = default;
        cmd.DevId = devId;
        cmd.QueueId = UblkConstants.NoQueue;
        return cmd;
    }

    /// <summary>Sends one control command and returns its CQE result (≥ 0 or -errno).</summary>
    private int Send(uint op, in UblksrvCtrlCmd cmd)
    {
        lock (_lock)
        {
            IoUringSqe* sqe = _ring.TryGetSqe();
            byte* payload = SqePrep.UringCommand(sqe, _fd, op, ++_nextUserData);
            *(UblksrvCtrlCmd*)payload = cmd;
            IoUringCqe cqe = _ring.SubmitAndWaitOne();
            return cqe.Result;
        }
    }

    private static void Check(int rc, string what)
    {
        if (rc < 0)
            throw new IOException($"ublk {what} failed: {Libc.ErrorText(-rc)}", -rc);
    }

    public void Dispose()
    {
        _ring.Dispose();
        Libc.Close(_fd);
    }
}
