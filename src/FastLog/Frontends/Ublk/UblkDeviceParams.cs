namespace FastLog.Frontends.Ublk;

/// <summary>Builds SET_PARAMS from the backend's size and the frontend options.</summary>
internal static class UblkDeviceParams
{
    /// <summary>Per-request data limit; also each tag's buffer size (copy mode needs a buffer ≥ max_io_buf_bytes).</summary>
    public const int DefaultMaxIoBytes = 512 * 1024;

    /// <summary>Discard / write-zeroes limit per request: the largest byte count that still fits 32 bits.</summary>
    private const uint MaxDiscardSectors = uint.MaxValue >> 9;

    /// <summary>
    /// VOLATILE_CACHE and FUA are advertised so filesystems send FLUSH and FUA writes: the capture log must see
    /// every durability point, as dm-log-writes does. The capacity is rounded down to the logical block size.
    /// </summary>
    public static UblkParams Build(long sizeBytes, int logicalBlockSize, uint maxIoBytes)
    {
        if (logicalBlockSize is not (512 or 4096))
            throw new ArgumentOutOfRangeException(nameof(logicalBlockSize), logicalBlockSize, "logical block size must be 512 or 4096");
        byte lbsShift = (byte)(logicalBlockSize == 512 ? 9 : 12);
        long blocks = sizeBytes >> lbsShift;
        if (blocks <= 0)
            throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, "backing store is smaller than one logical block");

        UblkParams p = default;
        p.Types = UblkConstants.ParamTypeBasic | UblkConstants.ParamTypeDiscard;
        p.Basic.Attributes = UblkConstants.AttrVolatileCache | UblkConstants.AttrFua;
        p.Basic.LogicalBlockShift = lbsShift;
        p.Basic.PhysicalBlockShift = 12; // never below the logical size; 4 KiB keeps 512e filesystems aligned
        p.Basic.IoOptimalShift = 12;
        p.Basic.IoMinimumShift = lbsShift;
        p.Basic.MaxSectors = maxIoBytes >> 9;
        p.Basic.DeviceSectors = (ulong)(blocks << lbsShift) >> 9;

        p.Discard.DiscardGranularity = (uint)logicalBlockSize;
        p.Discard.MaxDiscardSectors = MaxDiscardSectors & ~((uint)(logicalBlockSize >> 9) - 1);
        p.Discard.MaxWriteZeroesSectors = p.Discard.MaxDiscardSectors;
        p.Discard.MaxDiscardSegments = 1; // one range per request: the descriptor has room for one
        return p;
    }
}
