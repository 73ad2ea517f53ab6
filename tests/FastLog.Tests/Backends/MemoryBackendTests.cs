using FastLog.Backends;
using FastLog.Interop;
using FastLog.Tests.Support;

namespace FastLog.Tests.Backends;

/// <summary>The in-memory store keeps the backend contract: bytes round-trip, a fresh device reads as zeros,
/// discards and write-zeroes read back as zeros over exactly their range, a range outside the device is refused
/// with -EINVAL (-22) and changes nothing, and the device declares what it is: no cache, no FUA, the logical block
/// size it was given (512 or 4096 only).</summary>
public class MemoryBackendTests
{
    private const int Size = 64 << 10;

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

    [Fact]
    public void A_fresh_device_reads_as_zeros_and_writes_land_exactly_where_they_were_sent()
    {
        using var memory = new MemoryBackend(Size);
        Assert.Equal(Size, memory.Size);
        Assert.Equal(new byte[Size], ReadAll(memory));

        byte[] first = LogBytes.Pattern(4096, 1), last = LogBytes.Pattern(512, 2);
        Assert.Equal(0, memory.Write(512, first, fua: false));
        Assert.Equal(0, memory.Write(Size - 512, last, fua: true)); // the last sector, FUA or not the same store
        Assert.Equal(0, memory.Flush());

        var expected = new byte[Size];
        first.CopyTo(expected, 512);
        last.CopyTo(expected, Size - 512);
        Assert.Equal(expected, ReadAll(memory)); // nothing before, between or after the writes changed

        byte[] over = LogBytes.Pattern(1024, 3); // an overwrite replaces the middle of the first write
        Assert.Equal(0, memory.Write(1024, over, fua: false));
        over.CopyTo(expected, 1024);
        Assert.Equal(expected, ReadAll(memory));
    }

    [Fact]
    public void Discard_and_write_zeroes_zero_exactly_their_range()
    {
        using var memory = new MemoryBackend(Size);
        byte[] full = LogBytes.Pattern(Size, 4);
        Assert.Equal(0, memory.Write(0, full, fua: false));

        Assert.Equal(0, memory.Discard(4096, 8192));
        Assert.Equal(0, memory.WriteZeroes(Size - 1024, 1024));
        var expected = (byte[])full.Clone();
        Array.Clear(expected, 4096, 8192);
        Array.Clear(expected, Size - 1024, 1024);
        Assert.Equal(expected, ReadAll(memory));

        Assert.Equal(0, memory.Discard(0, Size)); // the whole device
        Assert.Equal(new byte[Size], ReadAll(memory));
    }

    [Fact]
    public void A_range_outside_the_device_is_refused_with_einval_and_changes_nothing()
    {
        using var memory = new MemoryBackend(Size);
        byte[] full = LogBytes.Pattern(Size, 5);
        Assert.Equal(0, memory.Write(0, full, fua: false));
        var sector = new byte[512];

        // -EINVAL, the value itself (an errno a frontend passes to the kernel as is).
        Assert.Equal(-22, memory.Read(Size, sector));
        Assert.Equal(-22, memory.Read(Size - 256, sector)); // straddles the end
        Assert.Equal(-22, memory.Read(-512, sector));
        Assert.Equal(-22, memory.Write(Size - 256, LogBytes.Pattern(512, 6), fua: false));
        Assert.Equal(-22, memory.Write(-512, LogBytes.Pattern(512, 7), fua: true));
        Assert.Equal(-22, memory.Discard(Size - 512, 1024));
        Assert.Equal(-22, memory.Discard(-512, 512));
        Assert.Equal(-22, memory.Discard(0, -512));
        Assert.Equal(-22, memory.WriteZeroes(Size - 512, 1024));
        Assert.Equal(-22, memory.WriteZeroes(0, long.MaxValue));
        Assert.Equal(-22, memory.WriteZeroes(-512, 512));
        // Ranges whose end overflows 64 bits: a sum would wrap negative and pass (and touch memory outside the device).
        Assert.Equal(-22, memory.WriteZeroes(512, long.MaxValue));
        Assert.Equal(-22, memory.Read(long.MaxValue - 256, sector));
        Assert.Equal(-22, memory.Write(long.MaxValue - 256, LogBytes.Pattern(512, 8), fua: false));

        Assert.Equal(full, ReadAll(memory)); // no refused request wrote its in-range part
        Assert.Equal(0, memory.Read(Size - 512, sector)); // the last sector itself is in range
        Assert.Equal(full.AsSpan(Size - 512).ToArray(), sector);
    }

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public void It_declares_no_cache_no_fua_and_the_logical_block_size_it_was_given(int logicalBlockSize)
    {
        using var memory = new MemoryBackend(Size, logicalBlockSize);
        Assert.Equal(new DeviceCapabilities(logicalBlockSize, PhysicalBlockSize: 4096, VolatileCache: false, Fua: false,
            Discard: true, WriteZeroes: true), memory.Capabilities);
        Assert.Null(memory.Capabilities.Problem());
    }

    [Fact]
    public void The_default_logical_block_size_is_512()
    {
        using var memory = new MemoryBackend(Size);
        Assert.Equal(512, memory.Capabilities.LogicalBlockSize);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(8192)]
    [InlineData(-512)]
    public void A_logical_block_size_other_than_512_or_4096_is_refused(int logicalBlockSize)
    {
        var refused = Assert.Throws<ArgumentException>(() => new MemoryBackend(Size, logicalBlockSize));
        Assert.Contains($"logical block size {logicalBlockSize} is not 512 or 4096", refused.Message);
    }

    private static byte[] ReadAll(MemoryBackend memory)
    {
        var all = new byte[memory.Size];
        Assert.Equal(0, memory.Read(0, all));
        return all;
    }
}
