using System.Runtime.InteropServices;

namespace FastLog.Interop.IoUring;

/// <summary>
/// The io_uring syscalls, through native/fastlog_native.c because syscall() is variadic. Each returns a
/// non-negative result or -errno. Linked statically under NativeAOT (DirectPInvoke), loaded from
/// libfastlog_native.so beside the assembly under JIT.
/// </summary>
internal static unsafe partial class IoUringNative
{
    private const string Library = "fastlog_native";

    [LibraryImport(Library, EntryPoint = "fl_io_uring_setup")]
    public static partial int Setup(uint entries, IoUringParams* parameters);

    [LibraryImport(Library, EntryPoint = "fl_io_uring_enter")]
    public static partial int Enter(int fd, uint toSubmit, uint minComplete, uint flags);

    /// <summary>Enter and wait at most <paramref name="timeoutNs"/> for <paramref name="minComplete"/> CQEs; -ETIME on timeout.</summary>
    [LibraryImport(Library, EntryPoint = "fl_io_uring_enter_timeout")]
    public static partial int EnterTimeout(int fd, uint toSubmit, uint minComplete, uint flags, long timeoutNs);

    [LibraryImport(Library, EntryPoint = "fl_io_uring_register")]
    public static partial int Register(int fd, uint opcode, void* argument, uint count);

    /// <summary>sizeof() of a kernel struct as the native helper was compiled; -1 for an unknown id.</summary>
    [LibraryImport(Library, EntryPoint = "fl_abi_size")]
    public static partial int AbiSize(NativeAbiStruct id);
}

/// <summary>Ids for <see cref="IoUringNative.AbiSize"/>, identical to the enum in native/fastlog_native.c.</summary>
internal enum NativeAbiStruct
{
    IoUringSqe = 1, IoUringCqe, IoUringParams, UblksrvCtrlCmd, UblksrvCtrlDevInfo, UblksrvIoCmd, UblksrvIoDesc,
    UblkParams, GeteventsArg,
}
