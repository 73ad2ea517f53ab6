using Microsoft.Win32.SafeHandles;

namespace FastLog.Interop;

/// <summary>
/// Opens the files FastLog reads logs from and writes devices to. Only regular files and block devices qualify:
/// logs and targets are read and written at random offsets, which a FIFO, pipe, socket or directory cannot
/// serve. Opening never blocks (a FIFO with no writer is opened O_NONBLOCK, found out by fstat, and refused), and
/// every refusal says what the path is and why it cannot be used.
/// </summary>
internal static class StorageFile
{
    /// <summary>Opens <paramref name="path"/> read-only as a log (<paramref name="role"/> names it in errors).</summary>
    /// <exception cref="IOException">The path is empty, missing, unreadable, or not a regular file or block device.</exception>
    public static SafeFileHandle OpenForReading(string path, string role = "log")
    {
        int fd = Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK, role, out _);
        // O_NONBLOCK only kept open() from waiting for a FIFO's writer; io_uring would turn it into IOCB_NOWAIT.
        int flags = Libc.Fcntl(fd, Libc.F_GETFL, 0);
        if (flags >= 0)
            Libc.Fcntl(fd, Libc.F_SETFL, flags & ~Libc.O_NONBLOCK);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>posix_fadvise over the whole file; advice only, so a failure is ignored.</summary>
    public static void Advise(this SafeFileHandle handle, int advice) =>
        FileDescriptor.With(handle, fd => Libc.PosixFAdvise(fd, 0, 0, advice));

    /// <summary>
    /// Opens <paramref name="path"/> with <paramref name="flags"/> (O_RDWR, O_DIRECT...) and returns the fd. With
    /// <paramref name="exclusive"/> a block device is opened O_EXCL: the kernel then refuses it with EBUSY while it
    /// is mounted or held by another exclusive opener (a capture, device-mapper, md), and holds it against a mount
    /// for as long as the fd is open. O_EXCL without O_CREAT means nothing for a regular file.
    /// </summary>
    /// <exception cref="Backends.DeviceBusyException">The block device is mounted or held (only with <paramref name="exclusive"/>).</exception>
    /// <exception cref="IOException">The path cannot be opened, or is not a regular file or block device.</exception>
    public static int Open(string path, int flags, string role, out FileStatus status, bool exclusive = false, int mode = 0)
    {
        if (string.IsNullOrEmpty(path))
            throw new IOException($"the {role} path is empty: give the path of a regular file or a block device");
        int fd = Libc.Open(path, flags | Libc.O_CLOEXEC | (exclusive ? Libc.O_EXCL : 0), mode);
        if (fd < 0)
        {
            int errno = Libc.Errno;
            if (errno == Libc.EBUSY && exclusive)
                throw Busy(path, role);
            string kind = FileStatus.OfPath(path) is { } known && !known.IsRegularFile && !known.IsBlockDevice ? $" ({path} is {known.Kind})" : "";
            throw new IOException($"{path}: cannot open {role}: {Libc.ErrorText(errno)}{kind}");
        }
        try
        {
            status = RequireRegularFileOrBlockDevice(fd, path, role);
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
        return fd;
    }

    /// <summary>The refusal of a block device that O_EXCL found in use.</summary>
    public static Backends.DeviceBusyException Busy(string path, string role) =>
        new($"{path}: the {role} is a block device in use (mounted, or held by another program such as a capture, " +
            "device-mapper or md): refusing to write it; unmount or release it first");

    /// <summary>The fd's status if it is a regular file or block device; otherwise says what it is instead.</summary>
    /// <exception cref="IOException">It is a FIFO, pipe, socket, directory or character device.</exception>
    public static FileStatus RequireRegularFileOrBlockDevice(int fd, string path, string role)
    {
        if (Libc.FStat(fd, out FileStatus status) != 0)
            throw new IOException($"{path}: fstat failed: {Libc.ErrorText(Libc.Errno)}");
        if (!status.IsRegularFile && !status.IsBlockDevice)
            throw new IOException($"{path} is {status.Kind}, not a regular file or block device: the {role} is accessed at " +
                                  "random offsets, which only those allow (save a pipe's output to a file first)");
        return status;
    }
}
