using System.Runtime.InteropServices;

namespace FastLog.Interop;

/// <summary>
/// The fields of struct stat that say which file an fd is and what kind: st_dev and st_ino name the inode, st_rdev
/// the device a device node stands for (two nodes of one block device have different inodes, the same st_rdev).
/// </summary>
internal readonly record struct FileStatus(ulong Device, ulong Inode, uint Mode, ulong RawDevice, long Size)
{
    public uint Type => Mode & Libc.S_IFMT;
    public bool IsRegularFile => Type == Libc.S_IFREG;
    public bool IsBlockDevice => Type == Libc.S_IFBLK;

    /// <summary>The kind of file, as a phrase for an error message ("a directory").</summary>
    public string Kind => Type switch
    {
        Libc.S_IFREG => "a regular file",
        Libc.S_IFBLK => "a block device",
        Libc.S_IFDIR => "a directory",
        Libc.S_IFCHR => "a character device",
        Libc.S_IFIFO => "a FIFO or pipe",
        Libc.S_IFSOCK => "a socket",
        Libc.S_IFLNK => "a symbolic link",
        _ => $"a file of type 0{Type >> 12:o}",
    };

    /// <summary>Whether both name the same storage: one inode, or two nodes of one block device.</summary>
    public bool IsSameFileAs(FileStatus other) =>
        (Device == other.Device && Inode == other.Inode) || (IsBlockDevice && other.IsBlockDevice && RawDevice == other.RawDevice);

    /// <summary>Decodes a struct stat as the x86-64 or arm64 kernel lays it out.</summary>
    internal static unsafe FileStatus FromStat(byte* stat)
    {
        bool arm = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
        return new FileStatus(
            Device: *(ulong*)stat,
            Inode: *(ulong*)(stat + 8),
            Mode: *(uint*)(stat + (arm ? 16 : 24)),
            RawDevice: *(ulong*)(stat + (arm ? 32 : 40)),
            Size: *(long*)(stat + 48));
    }

    /// <summary>stat(2) of <paramref name="path"/> (following symlinks), or null if it cannot be stat'ed.</summary>
    public static unsafe FileStatus? OfPath(string path)
    {
        byte* buffer = stackalloc byte[256];
        return Libc.Stat(path, buffer) == 0 ? FromStat(buffer) : null;
    }
}
