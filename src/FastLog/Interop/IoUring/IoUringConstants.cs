namespace FastLog.Interop.IoUring;

/// <summary>io_uring opcodes FastLog issues (include/uapi/linux/io_uring.h; the numbers are ABI).</summary>
internal enum IoUringOp : byte
{
    Nop = 0,
    Writev = 2,
    Fsync = 3,
    Read = 22,
    Write = 23,
    UringCmd = 46,
}

/// <summary>io_uring_setup flags.</summary>
[Flags]
internal enum IoUringSetupFlags : uint
{
    None = 0,
    CqSize = 1u << 3,
    /// <summary>Task work only when the task enters the kernel anyway (5.19).</summary>
    CoopTaskrun = 1u << 8,
    /// <summary>128-byte SQEs: an 80-byte command payload, which ublk control commands need.</summary>
    Sqe128 = 1u << 10,
    /// <summary>Only one task submits (6.0); required by <see cref="DeferTaskrun"/>.</summary>
    SingleIssuer = 1u << 12,
    /// <summary>Completions run only when the owner waits with GETEVENTS (6.1).</summary>
    DeferTaskrun = 1u << 13,
}

internal static class IoUringConstants
{
    public const uint EnterGetEvents = 1u << 0;
    public const uint FsyncDatasync = 1u << 0;
    /// <summary>rw_flags RWF_DSYNC: this write alone is O_DSYNC (a FUA write).</summary>
    public const uint RwfDsync = 1u << 1;
    /// <summary>IOSQE_IO_LINK: the next SQE starts only after this one completed in full (else it is canceled).</summary>
    public const byte SqeIoLink = 1 << 2;
    public const uint FeatSingleMmap = 1u << 0;
    public const long OffSqRing = 0, OffCqRing = 0x8000000, OffSqes = 0x10000000;
    public const int ETIME = 62;
}
