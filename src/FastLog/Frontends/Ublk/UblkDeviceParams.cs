using FastLog.Backends;

namespace FastLog.Frontends.Ublk;

/// <summary>Builds SET_PARAMS from the backend's size and the frontend options.</summary>
internal static class UblkDeviceParams
{
    /// <summary>Per-request data limit; also each tag's buffer size (copy mode needs a buffer ≥ max_io_buf_bytes).</summary>
    public const int DefaultMaxIoBytes = 512 * 1024;

    /// <summary>Discard / write-zeroes limit per request: the largest byte count that still fits 32 bits.</summary>
    private const uint MaxDiscardSectors = uint.MaxValue >> 9;

    /// <summary>
    /// The backend's <see cref="DeviceCapabilities"/> as ublk attributes and limits: VOLATILE_CACHE and FUA where the
    /// backend declares them (a logged device always does, so that filesystems send FLUSH and FUA writes and the log
    /// sees every durability point, as dm-log-writes does), discard and write-zeroes limits only for what it takes. The
    /// capacity is rounded down to the logical block size.
    /// </summary>
    public static UblkParams Build(long sizeBytes, DeviceCapabilities capabilities, uint maxIoBytes)
    {
        capabilities.Validate();
        int logicalBlockSize = capabilities.LogicalBlockSize;
        byte lbsShift = (byte)System.Numerics.BitOperations.Log2((uint)logicalBlockSize);
        long blocks = sizeBytes >> lbsShift;
        if (blocks <= 0)
            throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, "backing store is smaller than one logical block");

        UblkParams p = default;
        p.Types = UblkConstants.ParamTypeBasic;
        p.Basic.Attributes = (capabilities.VolatileCache ? UblkConstants.AttrVolatileCache : 0)
                             | (capabilities.Fua ? UblkConstants.AttrFua : 0);
        p.Basic.LogicalBlockShift = lbsShift;
        p.Basic.PhysicalBlockShift = (byte)System.Numerics.BitOperations.Log2((uint)capabilities.PhysicalBlockSize);
        p.Basic.IoOptimalShift = p.Basic.PhysicalBlockShift;
        p.Basic.IoMinimumShift = lbsShift;
        p.Basic.MaxSectors = maxIoBytes >> 9;
        p.Basic.DeviceSectors = (ulong)(blocks << lbsShift) >> 9;

        if (capabilities.Discard || capabilities.WriteZeroes)
        {
            uint limit = MaxDiscardSectors & ~((uint)(logicalBlockSize >> 9) - 1);
            p.Types |= UblkConstants.ParamTypeDiscard;
            p.Discard.DiscardGranularity = (uint)logicalBlockSize;
            p.Discard.MaxDiscardSectors = capabilities.Discard ? limit : 0;
            p.Discard.MaxWriteZeroesSectors = capabilities.WriteZeroes ? limit : 0;
            p.Discard.MaxDiscardSegments = 1; // one range per request: the descriptor has room for one
        }
        return p;
    }
}
