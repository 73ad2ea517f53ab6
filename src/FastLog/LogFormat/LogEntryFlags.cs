namespace FastLog.LogFormat;

/// <summary>Entry flags of dm-log-writes v1 (drivers/md/dm-log-writes.c, LOG_*_FLAG).</summary>
[Flags]
public enum LogEntryFlags : ulong
{
    None = 0,
    Flush = 1 << 0,
    Fua = 1 << 1,
    Discard = 1 << 2,
    Mark = 1 << 3,
    /// <summary>REQ_META; written by the kernel target only (QEMU's blklogwrites lacks it).</summary>
    Metadata = 1 << 4,

    Known = Flush | Fua | Discard | Mark | Metadata,
}
