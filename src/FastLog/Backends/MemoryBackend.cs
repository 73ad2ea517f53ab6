using System.Runtime.InteropServices;

namespace FastLog.Backends;

/// <summary>
/// A store in process memory: for embedded use, for tests that need a device without a disk, and to measure the
/// capture pipeline at full speed. Durable means nothing here, so Flush succeeds at once and the device declares no
/// volatile cache (a logging backend over it still does: the log must see every FLUSH).
/// </summary>
public sealed unsafe class MemoryBackend : IBlockBackend
{
    private byte* _memory;

    public MemoryBackend(long size, int logicalBlockSize = 512)
    {
        Size = size;
        Capabilities = new DeviceCapabilities(logicalBlockSize, Math.Max(4096, logicalBlockSize), VolatileCache: false, Fua: false);
        Capabilities.Validate();
        _memory = (byte*)NativeMemory.AllocZeroed((nuint)size);
    }

    public long Size { get; }
    public DeviceCapabilities Capabilities { get; }

    public int Read(long offset, Span<byte> destination)
    {
        if (!InRange(offset, destination.Length)) return -Interop.Libc.EINVAL;
        new ReadOnlySpan<byte>(_memory + offset, destination.Length).CopyTo(destination);
        return 0;
    }

    public int Write(long offset, ReadOnlySpan<byte> source, bool fua)
    {
        if (!InRange(offset, source.Length)) return -Interop.Libc.EINVAL;
        source.CopyTo(new Span<byte>(_memory + offset, source.Length));
        return 0;
    }

    public int Flush() => 0;

    public int Discard(long offset, long length) => WriteZeroes(offset, length);

    public int WriteZeroes(long offset, long length)
    {
        if (!InRange(offset, length)) return -Interop.Libc.EINVAL;
        NativeMemory.Clear(_memory + offset, (nuint)length);
        return 0;
    }

    private bool InRange(long offset, long length) => offset >= 0 && length >= 0 && length <= Size - offset; // no overflowing sum

    public void Dispose()
    {
        NativeMemory.Free(_memory);
        _memory = null;
    }
}
