using System.Runtime.InteropServices;

namespace FastLog.Interop;

/// <summary>The few libc calls .NET does not wrap. Every call returns -1 and sets errno on failure.</summary>
internal static unsafe partial class Libc
{
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_NONBLOCK = 0x800,
        O_DIRECT = 0x4000, O_DSYNC = 0x1000, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000, O_TRUNC = 0x200, O_DIRECTORY = 0x10000;
    public const int F_GETFL = 3, F_SETFL = 4;
    public const int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;
    public const int EINTR = 4, EIO = 5, EAGAIN = 11, EBUSY = 16, ENODEV = 19, EINVAL = 22, ENOSPC = 28,
        EOPNOTSUPP = 95, ENOSYS = 38, ENOENT = 2, EPERM = 1, EACCES = 13, ENOTDIR = 20, EISDIR = 21;
    public const int S_IFMT = 0xF000, S_IFBLK = 0x6000, S_IFREG = 0x8000, S_IFDIR = 0x4000, S_IFCHR = 0x2000,
        S_IFIFO = 0x1000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000;

    // _IO(0x12, n) block ioctls (linux/fs.h)
    public const ulong BLKGETSIZE64 = 0x80081272, BLKDISCARD = 0x1277, BLKZEROOUT = 0x127f, BLKSSZGET = 0x1268, BLKFLSBUF = 0x1261;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    public static partial nint PRead(int fd, void* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    public static partial nint PWrite(int fd, void* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buffer, nuint count);

    public const int EFD_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int FDataSync(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int FAllocate(int fd, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int FTruncate(int fd, long length);

    /// <summary>ioctl is variadic in C; on x86-64 and arm64 a pointer third argument is passed like a fixed one.</summary>
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, void* argument);

    public const int POSIX_FADV_NORMAL = 0, POSIX_FADV_RANDOM = 1, POSIX_FADV_SEQUENTIAL = 2, POSIX_FADV_WILLNEED = 3;

    /// <summary>Returns an errno (not -1) on failure, as POSIX specifies.</summary>
    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    public static partial int PosixFAdvise(int fd, long offset, long length, int advice);

    public const int AT_EMPTY_PATH = 0x1000;
    public const uint STATX_DIOALIGN = 0x2000;

    /// <summary>statx(2) into a 256-byte struct statx (the same layout on every architecture).</summary>
    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirFd, string path, int flags, uint mask, byte* statxBuffer);

    /// <summary>fcntl with an int argument (F_GETFL/F_SETFL); variadic, passed like a fixed int on x86-64 and arm64 Linux.</summary>
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static partial int FStatRaw(int fd, byte* statBuffer);

    public static int Errno => Marshal.GetLastSystemError();

    /// <summary>Mode bits (st_mode) and size (st_size) of an open file; x86-64 and arm64 struct stat layouts.</summary>
    public static int FStat(int fd, out uint mode, out long size)
    {
        int rc = FStat(fd, out FileStatus status);
        mode = status.Mode;
        size = status.Size;
        return rc;
    }

    /// <summary>struct stat of an open file: which file it is (st_dev, st_ino, st_rdev), its type and size.</summary>
    public static int FStat(int fd, out FileStatus status)
    {
        byte* buffer = stackalloc byte[256];
        int rc = FStatRaw(fd, buffer);
        status = FileStatus.FromStat(buffer);
        return rc;
    }

    public static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}
