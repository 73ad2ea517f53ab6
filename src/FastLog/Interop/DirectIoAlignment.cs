namespace FastLog.Interop;

/// <summary>What O_DIRECT needs of the requests on a file or block device, for callers outside this assembly.</summary>
public static unsafe class DirectIoAlignment
{
    /// <summary>
    /// The unit every O_DIRECT request's offset and length must be a multiple of: a block device's logical block
    /// size (BLKSSZGET), a regular file's stx_dio_offset_align (statx STATX_DIOALIGN, Linux 6.1+; usually the
    /// logical block size of the disk under its file system). Null when unknown: the path cannot be opened, the
    /// kernel or file system does not say, or it has no direct I/O at all (opening it O_DIRECT then fails).
    /// </summary>
    public static int? Of(string path)
    {
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            return null;
        try
        {
            if (Libc.FStat(fd, out uint mode, out _) != 0)
                return null;
            if ((mode & Libc.S_IFMT) == Libc.S_IFBLK)
            {
                int size;
                return Libc.Ioctl(fd, Libc.BLKSSZGET, &size) == 0 && size > 0 ? size : null;
            }
            byte* statx = stackalloc byte[256];
            if (Libc.Statx(fd, "", Libc.AT_EMPTY_PATH, Libc.STATX_DIOALIGN, statx) != 0)
                return null;
            uint returned = *(uint*)statx;
            uint offsetAlign = *(uint*)(statx + 156); // stx_dio_offset_align
            return (returned & Libc.STATX_DIOALIGN) != 0 && offsetAlign > 0 ? (int)offsetAlign : null;
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
