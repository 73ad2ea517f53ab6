using System.Runtime.InteropServices;

namespace FastLog.Interop;

/// <summary>mmap/munmap, for io_uring rings and ublk descriptor arrays shared with the kernel.</summary>
internal static unsafe partial class Mman
{
    public const int PROT_READ = 1, PROT_WRITE = 2;
    public const int MAP_SHARED = 0x01, MAP_POPULATE = 0x8000;
    public static readonly void* MapFailed = (void*)-1;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(void* address, nuint length);

    public const int MADV_HUGEPAGE = 14;

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(void* address, nuint length, int advice);
}
