using FastLog.Interop;

namespace FastLog.Frontends.Fuse;

/// <summary>mount(2) of a FUSE session fd, lazy unmount, and aborting a connection through fusectl.</summary>
internal static class FuseMount
{
    public const string FsType = "fuse";
    public const string Source = "fastlog";
    private const string ConnectionsDir = "/sys/fs/fuse/connections";

    /// <summary>Opens /dev/fuse and mounts it on <paramref name="mountPoint"/>; returns the session fd.</summary>
    public static int Mount(string mountPoint)
    {
        int fd = Libc.Open("/dev/fuse", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            throw new IOException($"/dev/fuse: {Libc.ErrorText(Libc.Errno)} (is the fuse module loaded? modprobe fuse)");
        uint uid = Libc.GetEUid();
        // The kernel takes the session from fd=; allow_other lets loop (and root tools) open the file;
        // default_permissions leaves permission checks to the kernel (mode 0600 on the file).
        string options = $"fd={fd},rootmode=40000,user_id={uid},group_id=0,allow_other,default_permissions,max_read={FuseSession.MaxWrite}";
        if (Libc.Mount(Source, mountPoint, FsType, Libc.MS_NOSUID | Libc.MS_NODEV, options) != 0)
        {
            int errno = Libc.Errno;
            Libc.Close(fd);
            throw new IOException($"mount -t fuse {mountPoint}: {Libc.ErrorText(errno)}");
        }
        return fd;
    }

    /// <summary>The fusectl connection id of the FUSE mount at <paramref name="mountPoint"/>, or null.</summary>
    public static uint? ConnectionId(string mountPoint)
    {
        if (Libc.StatDevice(mountPoint, out ulong dev) != 0)
            return null;
        // glibc's dev_t encoding → the kernel's MKDEV(major, minor), which names the fusectl directory.
        uint major = (uint)(((dev >> 32) & 0xFFFFF000) | ((dev >> 8) & 0xFFF));
        uint minor = (uint)(((dev >> 12) & 0xFFFFFF00) | (dev & 0xFF));
        return (major << 20) | minor;
    }

    /// <summary>Detaches the mount from the tree now; the kernel tears it down when its last user (loop) lets go.</summary>
    public static int UnmountLazy(string mountPoint) =>
        Libc.Umount2(mountPoint, Libc.MNT_DETACH) == 0 ? 0 : Libc.Errno;

    /// <summary>Ends a connection at once: every pending and future request fails (ENOTCONN/EIO); nothing blocks.</summary>
    public static bool Abort(uint connectionId)
    {
        string path = $"{ConnectionsDir}/{connectionId}/abort";
        try
        {
            if (!File.Exists(path))
                return false;
            File.WriteAllText(path, "1");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Mount points of FUSE mounts from /proc/self/mountinfo whose path starts with <paramref name="prefix"/>.</summary>
    public static IEnumerable<(string MountPoint, uint ConnectionId)> MountsUnder(string prefix)
    {
        string[] lines;
        try { lines = File.ReadAllLines("/proc/self/mountinfo"); }
        catch (IOException) { yield break; }
        foreach (string line in lines)
        {
            // id parent major:minor root mountpoint options ... - fstype source superopts
            string[] fields = line.Split(' ');
            int dash = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || dash < 0 || dash + 1 >= fields.Length || !fields[dash + 1].StartsWith(FsType, StringComparison.Ordinal))
                continue;
            string mountPoint = Unescape(fields[4]);
            if (!mountPoint.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            string[] mm = fields[2].Split(':');
            if (mm.Length == 2 && uint.TryParse(mm[0], out uint major) && uint.TryParse(mm[1], out uint minor))
                yield return (mountPoint, (major << 20) | minor);
        }
    }

    private static string Unescape(string s) =>
        s.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");
}
