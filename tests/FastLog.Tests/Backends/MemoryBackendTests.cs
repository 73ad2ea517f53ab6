using FastLog.Backends;
using FastLog.Interop;

namespace FastLog.Tests.Backends;

/// <summary>The in-memory store keeps the backend contract: bytes round-trip, discards read back as zeros, and a
/// range outside the device is refused with -EINVAL, never served.</summary>
public class MemoryBackendTests
{
    [Fact]
    public void Writes_read_back_discards_and_zeroes_read_as_zeros_and_out_of_range_is_einval()
    {
        using var memory = new MemoryBackend(64 << 10);
        byte[] data = Enumerable.Range(0, 8192).Select(i => (byte)(i * 7)).ToArray();
        Assert.Equal(0, memory.Write(4096, data, fua: true));
        var back = new byte[8192];
        Assert.Equal(0, memory.Read(4096, back));
        Assert.Equal(data, back);
        Assert.Equal(0, memory.Flush());

        Assert.Equal(0, memory.Discard(4096, 4096));
        Assert.Equal(0, memory.WriteZeroes(8192, 512));
        Assert.Equal(0, memory.Read(4096, back));
        Assert.All(back.AsSpan(0, 4096 + 512).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(data.AsSpan(4096 + 512).ToArray(), back.AsSpan(4096 + 512).ToArray());

        Assert.Equal(-Libc.EINVAL, memory.Write(64 << 10, data.AsSpan(0, 512), fua: false));
        Assert.Equal(-Libc.EINVAL, memory.Read(-512, back.AsSpan(0, 512)));
        Assert.Equal(-Libc.EINVAL, memory.Discard((64 << 10) - 512, 1024));
        Assert.Equal(-Libc.EINVAL, memory.WriteZeroes(0, long.MaxValue));
    }
}
