using System.Runtime.InteropServices;

namespace FastLog.Interop.IoUring;

/// <summary>struct io_uring_params (120 bytes): filled in by io_uring_setup with the ring geometry.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringParams
{
    public uint SqEntries;
    public uint CqEntries;
    public IoUringSetupFlags Flags;
    public uint SqThreadCpu;
    public uint SqThreadIdle;
    public uint Features;
    public uint WqFd;
    public uint Reserved0, Reserved1, Reserved2;
    public SqRingOffsets SqOff;
    public CqRingOffsets CqOff;
}

/// <summary>struct io_sqring_offsets (40 bytes): byte offsets of the SQ ring fields inside its mmap.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SqRingOffsets
{
    public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Reserved1;
    public ulong UserAddr;
}

/// <summary>struct io_cqring_offsets (40 bytes): byte offsets of the CQ ring fields inside its mmap.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CqRingOffsets
{
    public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Reserved1;
    public ulong UserAddr;
}
