using FastLog.Backends;
using FastLog.Interop;
using Microsoft.Win32.SafeHandles;

namespace FastLog.Explorer;

/// <summary>
/// Serves one crash state after another as a block device: the durable image (a file the explorer keeps up to
/// date, only ever read here) with the state's <see cref="Overlay"/> on top, and on top of both a throwaway layer
/// that takes every write the checker makes (journal recovery at mount, a repairing fsck), so a state never changes
/// the durable image, the log or the next state.
/// </summary>
/// <remarks>
/// Reads resolve per logical block: the throwaway layer if the checker wrote the block, else the overlay, else the
/// durable image. <see cref="Present"/> swaps the state and empties the throwaway layer; the caller must have made
/// the kernel forget the previous state first (no I/O in flight, the block device's page cache dropped), see
/// <see cref="StateDevice"/>. Thread-safe for concurrent requests, as frontends need.
/// </remarks>
public sealed class CrashStateBackend : IBlockBackend
{
    private readonly FileBackend _durable;
    private readonly SafeFileHandle _log;
    private readonly FileBackend _scratch;
    private readonly string _scratchPath;
    private readonly int _blockSize;
    private readonly ulong[] _written; // bit b: logical block b is in the throwaway layer
    private volatile Overlay _overlay = Overlay.Empty;

    /// <param name="durableImagePath">The durable image; read only.</param>
    /// <param name="scratchPath">A file for the throwaway layer (created; removed on dispose).</param>
    public CrashStateBackend(string durableImagePath, SafeFileHandle log, string scratchPath, int blockSize)
    {
        _durable = FileBackend.Open(durableImagePath);
        _log = log;
        _blockSize = blockSize;
        Capabilities = new DeviceCapabilities(blockSize, Math.Max(4096, blockSize), VolatileCache: false, Fua: false);
        Size = _durable.Size;
        if (Size % blockSize != 0)
            throw new ArgumentException($"{durableImagePath}: size {Size} is not a multiple of the block size {blockSize}");
        _scratchPath = scratchPath;
        using (var stream = new FileStream(scratchPath, FileMode.Create, FileAccess.Write))
            stream.SetLength(Size);
        _scratch = FileBackend.Open(scratchPath);
        _written = new ulong[(Size / blockSize + 63) / 64];
    }

    public long Size { get; }

    /// <summary>No volatile cache: a crash state is checked, not crashed again, and what the checker writes is thrown
    /// away, so the kernel need not send FLUSH or FUA at all.</summary>
    public DeviceCapabilities Capabilities { get; }

    /// <summary>Writes the checker made to the current state, in bytes (journal recovery and the like).</summary>
    public long ThrowawayBytes { get; private set; }

    /// <summary>Shows <paramref name="overlay"/> from now on, with an empty throwaway layer.</summary>
    public void Present(Overlay overlay)
    {
        Array.Clear(_written);
        if (ThrowawayBytes > 0)
            _scratch.Discard(0, Size);
        ThrowawayBytes = 0;
        _overlay = overlay;
    }

    public int Read(long offset, Span<byte> destination)
    {
        if (!InRange(offset, destination.Length))
            return -Libc.EINVAL;
        try
        {
            Overlay overlay = _overlay;
            while (!destination.IsEmpty)
            {
                // A run of blocks that all come from the same layer.
                long block = offset / _blockSize;
                bool inScratch = IsWritten(block);
                int run = _blockSize;
                while (run < destination.Length && IsWritten(block + run / _blockSize) == inScratch)
                    run += _blockSize;
                run = Math.Min(run, destination.Length);
                int rc = inScratch ? _scratch.Read(offset, destination[..run]) : ReadBelow(overlay, offset, destination[..run]);
                if (rc != 0)
                    return rc;
                offset += run;
                destination = destination[run..];
            }
            return 0;
        }
        catch (IOException)
        {
            return -Libc.EIO;
        }
    }

    private int ReadBelow(Overlay overlay, long offset, Span<byte> destination)
    {
        ReadOnlySpan<OverlayExtent> extents = overlay.Extents;
        int i = overlay.FirstAtOrAfter(offset);
        while (!destination.IsEmpty)
        {
            long end = offset + destination.Length;
            if (i < extents.Length && extents[i].Offset <= offset)
            {
                int n = (int)Math.Min(extents[i].End - offset, destination.Length);
                overlay.ReadExtent(_log, extents[i], offset, destination[..n]);
                offset += n;
                destination = destination[n..];
                i++;
                continue;
            }
            int gap = (int)((i < extents.Length ? Math.Min(extents[i].Offset, end) : end) - offset);
            int rc = _durable.Read(offset, destination[..gap]);
            if (rc != 0)
                return rc;
            offset += gap;
            destination = destination[gap..];
        }
        return 0;
    }

    public int Write(long offset, ReadOnlySpan<byte> source, bool fua)
    {
        if (!InRange(offset, source.Length) || offset % _blockSize != 0 || source.Length % _blockSize != 0)
            return -Libc.EINVAL;
        int rc = _scratch.Write(offset, source, fua: false);
        if (rc == 0)
            MarkWritten(offset, source.Length);
        return rc;
    }

    /// <summary>Nothing written to a crash state is kept, so nothing needs to become durable.</summary>
    public int Flush() => 0;

    public int Discard(long offset, long length) => WriteZeroes(offset, length);

    public int WriteZeroes(long offset, long length)
    {
        if (!InRange(offset, length) || offset % _blockSize != 0 || length % _blockSize != 0)
            return -Libc.EINVAL;
        int rc = _scratch.WriteZeroes(offset, length);
        if (rc == 0)
            MarkWritten(offset, length);
        return rc;
    }

    private bool IsWritten(long block) => (Volatile.Read(ref _written[block >> 6]) >> (int)(block & 63) & 1) != 0;

    private void MarkWritten(long offset, long length)
    {
        for (long b = offset / _blockSize, end = (offset + length) / _blockSize; b < end; b++)
            Interlocked.Or(ref _written[b >> 6], 1UL << (int)(b & 63));
        lock (_written)
            ThrowawayBytes += length;
    }

    private bool InRange(long offset, long length) => offset >= 0 && length >= 0 && offset <= Size - length;

    public void Dispose()
    {
        _durable.Dispose();
        _scratch.Dispose();
        File.Delete(_scratchPath);
    }
}
