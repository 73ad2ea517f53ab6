using FastLog.Interop.IoUring;

namespace FastLog.Backends;

/// <summary>
/// A frontend queue thread's io_uring as lent to backends. A backend takes SQEs with <see cref="NextSqe"/> and stamps
/// them with <see cref="UserData"/>, so the frontend can tell its own CQEs from the backend's and route each back to
/// the queue it opened: bit 63 marks a backend's, bits 16–23 name the layer that submitted it, bits 0–15 the tag.
/// </summary>
/// <remarks>Single-threaded, like the ring: only the queue thread calls it. The frontend submits what backends queued
/// when it next enters the kernel, together with its own commands.</remarks>
internal sealed unsafe class BackendRing(IoUringRing ring, int depth)
{
    private const ulong BackendBit = 1UL << 63;

    /// <summary>The layers that submit SQEs, one number each so that a wrapper can tell its CQEs from its inner's.</summary>
    public const byte FileLayer = 1, LogWatchLayer = 2;

    /// <summary>A tag no request has: for an operation that belongs to the queue, not to one request.</summary>
    public const ushort NoTag = ushort.MaxValue;

    /// <summary>Tags run from 0 to Depth - 1.</summary>
    public int Depth { get; } = depth;

    /// <summary>A zeroed SQE; submits what is queued first when the SQ is full.</summary>
    public IoUringSqe* NextSqe()
    {
        IoUringSqe* sqe;
        while ((sqe = ring.TryGetSqe()) == null)
        {
            int rc = ring.Submit();
            if (rc < 0)
                throw new IOException($"io_uring submit failed: {Interop.Libc.ErrorText(-rc)}");
        }
        return sqe;
    }

    public static ulong UserData(ushort tag, byte layer) => BackendBit | (ulong)layer << 16 | tag;

    /// <summary>True for a backend's CQE, with the tag and layer it was stamped with.</summary>
    public static bool IsBackend(ulong userData, out ushort tag, out byte layer)
    {
        tag = (ushort)userData;
        layer = (byte)(userData >> 16);
        return (userData & BackendBit) != 0;
    }
}
