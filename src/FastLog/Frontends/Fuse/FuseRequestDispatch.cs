using FastLog.Backends;
using FastLog.Interop;

namespace FastLog.Frontends.Fuse;

/// <summary>
/// Turns the FUSE requests that carry the device's I/O into backend requests, by the rules ublk's dispatch follows:
/// a range outside the device fails with EIO, an operation the backend does not declare with EOPNOTSUPP.
/// </summary>
/// <remarks>
/// What loop sends: READ/WRITE → Read/Write; FSYNC (loop's REQ_OP_FLUSH) → Flush; FALLOCATE punch-hole (loop's discard,
/// and write-zeroes without NOUNMAP) → Discard; FALLOCATE zero-range (write-zeroes with NOUNMAP) → WriteZeroes. Loop has
/// no FUA: a FUA write reaches us as a WRITE followed by an FSYNC, so the backend never sees <c>fua: true</c> from
/// FUSE. A READ is the exception to the range rule: the device is a file here, and a file's read past its end is
/// short, not an error.
/// </remarks>
internal static unsafe class FuseRequestDispatch
{
    private const uint KeepSize = 1, PunchHole = 2, ZeroRange = 0x10;

    /// <summary>A READ of up to <paramref name="maxBytes"/>, cut at the device's end (empty past it).</summary>
    public static BlockRequest Read(FuseIoIn* io, long deviceSize, int maxBytes)
    {
        long offset = (long)Math.Min(io->Offset, (ulong)deviceSize);
        return new BlockRequest(BlockOp.Read, offset, Math.Min(Math.Min(io->Size, (uint)maxBytes), deviceSize - offset));
    }

    /// <summary>A WRITE whose payload follows its header in a body of <paramref name="bodyLength"/> bytes.</summary>
    public static bool TryWrite(FuseIoIn* io, int bodyLength, long deviceSize, out BlockRequest request, out int error)
    {
        request = new BlockRequest(BlockOp.Write, (long)io->Offset, io->Size);
        error = bodyLength < sizeof(FuseIoIn) + (long)io->Size ? -Libc.EINVAL : InRange(request, deviceSize);
        return error == 0;
    }

    /// <summary>A FALLOCATE: true with the request to serve, or false with <paramref name="error"/> the reply, which
    /// is 0 for a plain preallocation (the store is already all there).</summary>
    public static bool TryFAllocate(FuseFAllocateIn* f, long deviceSize, DeviceCapabilities capabilities, out BlockRequest request, out int error)
    {
        request = new BlockRequest(BlockOp.Discard, unchecked((long)f->Offset), unchecked((long)f->Length));
        error = request.Length <= 0 ? -Libc.EINVAL : InRange(request, deviceSize);
        if (error != 0)
            return false;
        switch (f->Mode & ~KeepSize)
        {
            case 0:
                return false;
            case PunchHole when capabilities.Discard:
                return true;
            case PunchHole or ZeroRange when capabilities.WriteZeroes: // a hole reads zeros: zeroing serves a punch-hole
                request = request with { Op = BlockOp.WriteZeroes };
                return true;
            default:
                error = -Libc.EOPNOTSUPP;
                return false;
        }
    }

    private static int InRange(in BlockRequest request, long deviceSize) =>
        request.Offset >= 0 && request.Length >= 0 && request.Offset <= deviceSize && request.Length <= deviceSize - request.Offset
            ? 0 : -Libc.EIO;
}
