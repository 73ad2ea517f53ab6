using FastLog.Backends;
using FastLog.Interop;

namespace FastLog.Frontends.Ublk;

/// <summary>Turns a ublk request into a backend request, and a backend result into the value committed to the kernel.</summary>
internal static class UblkRequestDispatch
{
    /// <summary>
    /// The backend request for <paramref name="desc"/>, or false with the -errno to commit at once: a range outside the
    /// device or larger than the tag's buffer (-EIO), an operation the device does not advertise (-EOPNOTSUPP).
    /// </summary>
    public static bool TryTranslate(in UblksrvIoDesc desc, long deviceSize, int bufferBytes, out BlockRequest request, out int error)
    {
        long offset = (long)desc.StartSector << 9;
        long length = (long)desc.NrSectors << 9;
        request = default;
        BlockOp? op = desc.Op switch
        {
            UblkIoOp.Read => BlockOp.Read,
            UblkIoOp.Write => BlockOp.Write,
            UblkIoOp.Flush => BlockOp.Flush,
            UblkIoOp.Discard => BlockOp.Discard,
            UblkIoOp.WriteZeroes => BlockOp.WriteZeroes,
            _ => null,
        };
        if (op is null)
        {
            error = -Libc.EOPNOTSUPP;
            return false;
        }
        bool transfer = op is BlockOp.Read or BlockOp.Write;
        if (op != BlockOp.Flush && (offset < 0 || length < 0 || offset + length > deviceSize || transfer && length > bufferBytes))
        {
            error = -Libc.EIO;
            return false;
        }
        request = op == BlockOp.Flush ? new BlockRequest(BlockOp.Flush, 0, 0) : new BlockRequest(op.Value, offset, length, desc.Fua);
        error = 0;
        return true;
    }

    /// <summary>
    /// The COMMIT result for a backend's 0 or -errno: the full byte count for READ/WRITE (a short count would be
    /// requeued or fail by kernel version), 0 for FLUSH/DISCARD/WRITE_ZEROES (their byte counts can overflow an int).
    /// </summary>
    public static int CommitResult(in BlockRequest request, int result) =>
        result < 0 ? result : request.Op is BlockOp.Read or BlockOp.Write ? (int)request.Length : 0;
}
