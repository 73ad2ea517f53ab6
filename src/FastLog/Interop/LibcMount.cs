using System.Runtime.InteropServices;

namespace FastLog.Interop;

/// <summary>mount(2), umount2(2), kill(2) and stat(2) as the FUSE frontend and its clean-up need them.</summary>
internal static unsafe partial class Libc
{
    public const ulong MS_NOSUID = 0x2, MS_NODEV = 0x4;
    public const int MNT_FORCE = 1, MNT_DETACH = 2;
    public const int ESRCH = 3, ENOTCONN = 107, EFBIG = 27, EPROTO = 71, ENXIO = 6;

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string source, string target, string fileSystemType, ulong flags, string data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatRaw(string path, byte* statBuffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEUid();

    /// <summary>stat(2) into a 256-byte struct stat buffer (decode with <see cref="FileStatus.FromStat"/>).</summary>
    public static int Stat(string path, byte* statBuffer) => StatRaw(path, statBuffer);

    /// <summary>st_dev of <paramref name="path"/> (the first field of struct stat on x86-64 and arm64).</summary>
    public static int StatDevice(string path, out ulong device)
    {
        byte* buffer = stackalloc byte[256];
        int rc = StatRaw(path, buffer);
        device = *(ulong*)buffer;
        return rc;
    }

    /// <summary>True while a process with this id exists (EPERM: it exists, owned by someone else).</summary>
    public static bool ProcessExists(int pid) => pid > 0 && (Kill(pid, 0) == 0 || Errno == EPERM);
}
