namespace FastLog.Interop;

/// <summary>What the kernel says about a block device, for callers outside this assembly.</summary>
public static unsafe class BlockDeviceInfo
{
    /// <summary>
    /// The logical block size (BLKSSZGET) of the block device at <paramref name="path"/>: the unit O_DIRECT I/O on
    /// it must be aligned to. Null when the path is not a block device or cannot be opened (the caller's own
    /// open reports why).
    /// </summary>
    public static int? LogicalBlockSize(string path)
    {
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            return null;
        try
        {
            if (Libc.FStat(fd, out uint mode, out _) != 0 || (mode & Libc.S_IFMT) != Libc.S_IFBLK)
                return null;
            int size;
            return Libc.Ioctl(fd, Libc.BLKSSZGET, &size) == 0 ? size : null;
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
