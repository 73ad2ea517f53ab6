namespace FastLog.Backends;

/// <summary>
/// The one interface every frontend (ublk, FUSE, embedded) serves: a block store of <see cref="Size"/> bytes.
/// Frontends only translate kernel requests into these calls; everything a device *is* (a plain file,
/// a logged file, later a base image plus an overlay of unflushed writes, or a volatile write cache that a
/// power cut can lose) is a backend, and backends compose by wrapping one another. A backend may also implement
/// <see cref="IRingBackend"/> to serve ublk queue threads without blocking them.
/// </summary>
/// <remarks>
/// Contract:
/// <list type="bullet">
/// <item>Calls come from several frontend threads at once; an implementation is thread-safe. Requests that
/// overlap in flight have no defined order between them, as on real hardware.</item>
/// <item>Offsets and lengths are in bytes and multiples of <see cref="Capabilities"/>' logical block size.</item>
/// <item>Each call returns 0 on success or a negative errno (-EIO, -ENOSPC, ...), which frontends pass to
/// the kernel unchanged. No exceptions on the I/O path: power-fail injection fails every request.</item>
/// <item>A call returns only when the request is complete, i.e. when the frontend may report completion.
/// <see cref="Flush"/> returns only when every write that returned before it was called is durable;
/// a write with <c>fua</c> returns only when it is durable itself.</item>
/// </list>
/// </remarks>
public interface IBlockBackend : IDisposable
{
    /// <summary>Capacity in bytes.</summary>
    long Size { get; }

    /// <summary>What this device is (block sizes, cache, FUA, DISCARD, WRITE_ZEROES): frontends show exactly this to
    /// the kernel, so offsets and lengths arrive in multiples of its logical block size and the kernel sends only the
    /// requests it declares. A wrapper states what the stack is at its layer, from its inner backend's.</summary>
    DeviceCapabilities Capabilities { get; }

    int Read(long offset, Span<byte> destination);

    int Write(long offset, ReadOnlySpan<byte> source, bool fua);

    int Flush();

    /// <summary>The range's contents become unspecified (a logged DISCARD); this backend reads it back as zeros.</summary>
    int Discard(long offset, long length);

    /// <summary>The range reads back as zeros afterwards.</summary>
    int WriteZeroes(long offset, long length);
}
