using FastLog.Backends;
using FastLog.Interop;

namespace FastLog.Frontends.Ublk;

/// <summary>Turns one ublk request into one backend call and the value to commit back to the kernel.</summary>
internal static unsafe class UblkRequestDispatch
{
    /// <summary>
    /// Serves <paramref name="desc"/> with <paramref name="buffer"/> (the tag's buffer, ≥ max_io_buf_bytes) and returns the
    /// COMMIT result: the full byte count for READ/WRITE (a short count would be requeued or fail by kernel version),
    /// 0 for FLUSH/DISCARD/WRITE_ZEROES (their byte counts can overflow an int), or -errno.
    /// Never throws: a queue thread that dies leaves its tags armed and the device's submitters hung.
    /// </summary>
    public static int Serve(IBlockBackend backend, in UblksrvIoDesc desc, byte* buffer, int bufferBytes)
    {
        long offset = (long)desc.StartSector << 9;
        long length = (long)desc.NrSectors << 9;
        UblkIoOp op = desc.Op;
        if (op != UblkIoOp.Flush && (offset < 0 || length < 0 || offset + length > backend.Size))
            return -Libc.EIO;
        try
        {
            switch (op)
            {
                case UblkIoOp.Read:
                    if (length > bufferBytes) return -Libc.EIO;
                    return Bytes(backend.Read(offset, new Span<byte>(buffer, (int)length)), length);
                case UblkIoOp.Write:
                    if (length > bufferBytes) return -Libc.EIO;
                    return Bytes(backend.Write(offset, new ReadOnlySpan<byte>(buffer, (int)length), desc.Fua), length);
                case UblkIoOp.Flush:
                    return backend.Flush();
                case UblkIoOp.Discard:
                    return backend.Discard(offset, length);
                case UblkIoOp.WriteZeroes:
                    return backend.WriteZeroes(offset, length);
                default:
                    return -Libc.EOPNOTSUPP;
            }
        }
        catch (Exception)
        {
            return -Libc.EIO; // a backend bug must not take the queue thread down with it
        }
    }

    private static int Bytes(int rc, long length) => rc < 0 ? rc : (int)length;
}
