namespace FastLog.Frontends.Ublk;

/// <summary>Request operations in <see cref="UblksrvIoDesc.OpFlags"/> bits 0–7.</summary>
internal enum UblkIoOp : byte
{
    Read = 0,
    Write = 1,
    Flush = 2,
    Discard = 3,
    WriteSame = 4,
    WriteZeroes = 5,
}

/// <summary>Numbers from the kernel's include/uapi/linux/ublk_cmd.h.</summary>
internal static class UblkConstants
{
    public const string ControlPath = "/dev/ublk-control";
    public const string CharDevicePrefix = "/dev/ublkc";
    public const string BlockDevicePrefix = "/dev/ublkb";

    public const uint AutoDevId = uint.MaxValue;
    public const ushort NoQueue = 0xFFFF;

    /// <summary>Descriptor mmap stride between queues: sized for the maximum depth (4096 × 24 B), page aligned, whatever the real depth.</summary>
    public const int MaxQueueDepth = 4096;
    public const long DescriptorOffset = 0;

    // Feature flags (dev_info.flags / GET_FEATURES).
    public const ulong FeatureCmdIoctlEncode = 1ul << 6;

    // Parameter types and basic attributes.
    public const uint ParamTypeBasic = 1u << 0, ParamTypeDiscard = 1u << 1;
    public const uint AttrReadOnly = 1u << 0, AttrRotational = 1u << 1, AttrVolatileCache = 1u << 2, AttrFua = 1u << 3;

    // Request flags (op_flags bits 8–31).
    public const uint IoFlagFua = 1u << 13;

    // FETCH / COMMIT CQE results.
    public const int IoResultOk = 0, IoResultNeedGetData = 1, IoResultAbort = -19;

    // Device states (dev_info.state).
    public const ushort StateDead = 0, StateLive = 1;
}
