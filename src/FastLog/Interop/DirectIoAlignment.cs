namespace FastLog.Interop;

/// <summary>What O_DIRECT needs of the requests on a file or block device, for callers outside this assembly.</summary>
public static unsafe class DirectIoAlignment
{
    /// <summary>
    /// The unit every O_DIRECT request's offset and length must be a multiple of: a block device's logical block
    /// size (BLKSSZGET), a regular file's stx_dio_offset_align (statx STATX_DIOALIGN, Linux 6.1+; usually the
    /// logical block size of the disk under its file system). Where the kernel does not say (statx DIOALIGN is 6.1+),
    /// it is found by <see cref="Probe"/>. Null when unknown: the path cannot be opened, or it has no direct I/O at
    /// all (opening it O_DIRECT then fails).
    /// </summary>
    public static int? Of(string path) => Reported(path) ?? Probe(path);

    /// <summary>What the kernel reports: BLKSSZGET, or statx's stx_dio_offset_align; null when it does not say.</summary>
    public static int? Reported(string path)
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

    /// <summary>
    /// The smallest of 512, 1024, 2048 and 4096 bytes that an O_DIRECT read takes at that offset and length (from a
    /// page-aligned buffer, as FastLog's are). Reads only, so it is harmless on a device in use; null when none
    /// works or the path is too short to tell (it needs 8 KiB).
    /// </summary>
    public static int? Probe(string path)
    {
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_DIRECT, 0);
        if (fd < 0)
            return null;
        void* buffer = System.Runtime.InteropServices.NativeMemory.AlignedAlloc(4096, 4096);
        try
        {
            for (int unit = 512; unit <= 4096; unit *= 2)
            {
                nint n;
                do n = Libc.PRead(fd, buffer, (nuint)unit, unit);
                while (n < 0 && Libc.Errno == Libc.EINTR);
                if (n == unit)
                    return unit;
                if (n >= 0)
                    return null; // short: past the end, where the kernel may not check alignment at all
            }
            return null;
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(buffer);
            Libc.Close(fd);
        }
    }
}
