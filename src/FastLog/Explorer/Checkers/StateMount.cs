using FastLog.Interop;

namespace FastLog.Explorer.Checkers;

/// <summary>
/// Mounts the filesystem a state holds (so it recovers its journal or log; the writes go to the state's throwaway
/// layer) on the job's own mount point, for checkers that look at files or only need the recovery to run.
/// </summary>
internal sealed class StateMount : IDisposable
{
    private StateMount(string type, string path)
    {
        Type = type;
        Path = path;
    }

    public string Type { get; }
    public string Path { get; }

    /// <summary>The mounted state, or null with <paramref name="failure"/> saying why it cannot be mounted.</summary>
    public static StateMount? TryMount(CheckContext context, out string failure)
    {
        failure = "";
        string? type = FilesystemChecker.Detect(context.ReadDevice);
        if (type is null)
        {
            failure = "no ext4, xfs or btrfs superblock on the device";
            return null;
        }
        string mountPoint = System.IO.Path.Combine(context.WorkDirectory, "mnt");
        Directory.CreateDirectory(mountPoint);
        // btrfs would otherwise keep what it learned of this device (generation, devices of the fsid) from the previous state.
        if (type == "btrfs")
            ProcessRunner.Run("btrfs", ["device", "scan", "--forget", context.Device], context.Timeout);
        // Jobs mount states of one filesystem at once, so the same UUID twice: XFS refuses that unless told nouuid
        // (btrfs gives the second one a temporary fsid by itself, ext4 does not care).
        if (Libc.Mount(context.Device, mountPoint, type, Libc.MS_NOSUID | Libc.MS_NODEV, type == "xfs" ? "nouuid" : "") != 0)
        {
            failure = $"mount -t {type} failed: {Libc.ErrorText(Libc.Errno)} (dmesg says why)";
            return null;
        }
        return new StateMount(type, mountPoint);
    }

    /// <summary>Unmounts; 0 or the errno of a mount that would not let go.</summary>
    public int Unmount()
    {
        for (int attempt = 0; ; attempt++)
        {
            if (Libc.Umount2(Path, 0) == 0)
                return 0;
            int errno = Libc.Errno;
            if (errno != Libc.EBUSY || attempt == 50)
                return errno;
            Thread.Sleep(20);
        }
    }

    public void Dispose() => Unmount();
}
