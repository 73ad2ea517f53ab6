using FastLog.Backends;

namespace FastLog.Tests.Backends;

/// <summary>The volatile write cache over memory: what is durable when, what a cut keeps, and no allocations.</summary>
public class VolatileCacheBackendTests
{
    private const int Block = 512;
    private const long DeviceSize = 16L << 20;

    private sealed class Recorder : IWriteBackRecorder
    {
        public readonly List<BlockRange> Ranges = [];
        public void WroteBack(ReadOnlySpan<BlockRange> ranges) => Ranges.AddRange(ranges.ToArray());
    }

    private static byte[] Pattern(int length, byte seed)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++) data[i] = (byte)(seed + i / Block);
        return data;
    }

    private static byte[] ReadInner(IBlockBackend inner, long offset, int length)
    {
        var data = new byte[length];
        Assert.Equal(0, inner.Read(offset, data));
        return data;
    }

    [Fact]
    public void Writes_stay_in_the_cache_until_a_flush_and_reads_see_the_cache_first()
    {
        var memory = new MemoryBackend(DeviceSize);
        using var cache = new VolatileCacheBackend(memory, 4L << 20, Block, PowerFailKeep.None);
        byte[] data = Pattern(8192, 1);
        Assert.Equal(0, cache.Write(4096, data, fua: false));
        Assert.Equal(new byte[8192], ReadInner(memory, 4096, 8192));
        var read = new byte[16384];
        Assert.Equal(0, cache.Read(0, read)); // part cached, part not
        Assert.Equal(data, read[4096..12288]);
        Assert.Equal(16, cache.CachedBlocks);
        Assert.Equal(0, cache.Flush());
        Assert.Equal(0, cache.CachedBlocks);
        Assert.Equal(data, ReadInner(memory, 4096, 8192));
    }

    [Fact]
    public void A_write_whose_end_overflows_64_bits_is_refused_not_cached()
    {
        using var memory = new MemoryBackend(DeviceSize);
        using var cache = new VolatileCacheBackend(memory, 4L << 20, Block, PowerFailKeep.None);
        Assert.Equal(-Interop.Libc.EINVAL, cache.Write(long.MaxValue & ~(Block - 1L), Pattern(Block, 1), fua: false));
        Assert.Equal(-Interop.Libc.EINVAL, cache.Write(DeviceSize - Block, Pattern(2 * Block, 1), fua: false));
        Assert.Equal(0, cache.Flush());
        Assert.All(ReadInner(memory, DeviceSize - Block, Block), b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_fua_write_goes_through_and_supersedes_the_cached_copy()
    {
        var memory = new MemoryBackend(DeviceSize);
        using var cache = new VolatileCacheBackend(memory, 4L << 20, Block, PowerFailKeep.All);
        Assert.Equal(0, cache.Write(0, Pattern(4096, 1), fua: false));
        byte[] fua = Pattern(4096, 50);
        Assert.Equal(0, cache.Write(0, fua, fua: true));
        Assert.Equal(fua, ReadInner(memory, 0, 4096));
        Assert.Equal(0, cache.CachedBlocks);
        PowerCutResult cut = cache.PowerCut()!;
        Assert.Equal(0, cut.KeptBlocks); // keep=all cannot bring the older cached data back over the FUA write
        Assert.Equal(fua, ReadInner(memory, 0, 4096));
    }

    [Fact]
    public void A_full_cache_writes_back_its_oldest_blocks_and_tells_the_recorder()
    {
        var memory = new MemoryBackend(DeviceSize);
        var recorder = new Recorder();
        using var cache = new VolatileCacheBackend(memory, 4L << 20, Block, PowerFailKeep.None) { Recorder = recorder };
        byte[] first = Pattern(64 << 10, 7);
        Assert.Equal(0, cache.Write(0, first, fua: false));
        for (long offset = 1 << 20; offset < 6L << 20; offset += 64 << 10)
            Assert.Equal(0, cache.Write(offset, Pattern(64 << 10, (byte)(offset >> 16)), fua: false));
        Assert.True(cache.CachedBlocks <= cache.CapacityBlocks);
        Assert.Equal(first, ReadInner(memory, 0, first.Length)); // the oldest write was persisted early
        Assert.Contains(recorder.Ranges, r => r.Start == 0 && r.Count >= first.Length / Block);
        long recorded = recorder.Ranges.Sum(r => r.Count);
        Assert.Equal(6L * 1024 * 1024 / Block - (1 << 20) / Block + first.Length / Block - cache.CachedBlocks, recorded);
        // A cut keeping nothing leaves exactly what was written back.
        PowerCutResult cut = cache.PowerCut()!;
        Assert.Equal(0, cut.KeptBlocks);
        foreach (BlockRange r in recorder.Ranges)
            Assert.NotEqual(new byte[Block], ReadInner(memory, r.Start * Block, Block));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("all")]
    [InlineData("random:42")]
    public void A_power_cut_keeps_what_the_policy_says_and_fails_every_request_until_power_on(string keepText)
    {
        Assert.True(PowerFailKeep.TryParse(keepText, out PowerFailKeep keep, out _));
        var memory = new MemoryBackend(DeviceSize);
        using var cache = new VolatileCacheBackend(memory, 4L << 20, Block, keep);
        byte[] durable = Pattern(8192, 1), cached = Pattern(65536, 100);
        Assert.Equal(0, cache.Write(0, durable, fua: false));
        Assert.Equal(0, cache.Flush());
        Assert.Equal(0, cache.Write(0, cached, fua: false));
        PowerCutResult cut = cache.PowerCut()!;
        Assert.Equal(128, cut.CachedBlocks);
        Assert.Null(cache.PowerCut()); // already off
        byte[] image = ReadInner(memory, 0, cached.Length);
        var kept = new HashSet<long>(cut.Kept.SelectMany(r => Enumerable.Range((int)r.Start, (int)r.Count).Select(b => (long)b)));
        Assert.Equal(cut.KeptBlocks, kept.Count);
        for (int b = 0; b < 128; b++)
        {
            byte[] expected = kept.Contains(b) ? cached : b < 16 ? durable : new byte[cached.Length];
            Assert.Equal(expected.AsSpan(b * Block % expected.Length, Block).ToArray(), image.AsSpan(b * Block, Block).ToArray());
        }
        Assert.Equal(keep.Kind switch { PowerFailKeepKind.None => 0, PowerFailKeepKind.All => 128, _ => cut.KeptBlocks }, cut.KeptBlocks);
        if (keep.Kind == PowerFailKeepKind.Random)
            Assert.InRange(cut.KeptBlocks, 30, 98); // about half, torn at block boundaries
        var buffer = new byte[4096];
        Assert.Equal(-5, cache.Read(0, buffer));
        Assert.Equal(-5, cache.Write(0, buffer, fua: false));
        Assert.Equal(-5, cache.Flush());
        Assert.Equal(-5, cache.Discard(0, 4096));
        Assert.True(cache.PowerOn());
        Assert.False(cache.PowerOn());
        Assert.Equal(0, cache.Read(0, buffer));
        Assert.Equal(image[..4096], buffer);
    }

    [Fact]
    public void The_same_seed_keeps_the_same_blocks()
    {
        BlockRange[] Cut()
        {
            using var cache = new VolatileCacheBackend(new MemoryBackend(DeviceSize), 4L << 20, Block, new PowerFailKeep(PowerFailKeepKind.Random, 7));
            for (int i = 0; i < 50; i++)
                cache.Write((i * 7919 % 2000) * (long)Block, Pattern(Block * 3, (byte)i), fua: false);
            return cache.PowerCut()!.Kept;
        }
        Assert.Equal(Cut(), Cut());
    }

    [Fact]
    public void Requests_allocate_nothing_in_steady_state_even_while_writing_back()
    {
        using var cache = new VolatileCacheBackend(new MemoryBackend(DeviceSize), 4L << 20, Block, PowerFailKeep.None);
        var data = new byte[4096];
        void Run(int rounds)
        {
            for (int i = 0; i < rounds; i++)
            {
                long offset = (i * 2654435761L % (DeviceSize / 4096)) * 4096;
                cache.Write(offset, data, fua: false);
                cache.Read(offset, data);
                if (i % 1000 == 999) cache.Flush();
            }
        }
        Run(5000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(20000); // 80 MiB through a 4 MiB cache: many write-backs
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
