using FastLog.Backends;
using FastLog.Frontends;
using FastLog.Frontends.Ublk;

namespace FastLog.Tests.Ublk;

/// <summary>The parts of the ublk frontend that need no ublk driver: parameters, request mapping, the missing-driver error.</summary>
public sealed unsafe class UblkHostTests : IDisposable
{
    private readonly string _path = Path.GetTempFileName();
    private readonly FileBackend _backend;

    public UblkHostTests()
    {
        using (var f = new FileStream(_path, FileMode.Open))
            f.SetLength(1 << 20);
        _backend = FileBackend.Open(_path);
    }

    public void Dispose()
    {
        _backend.Dispose();
        File.Delete(_path);
    }

    [Fact]
    public void Without_the_driver_start_says_how_to_get_it()
    {
        using var frontend = new UblkFrontend(_backend, new FrontendOptions(), "/dev/no-such-ublk-control");
        var e = Assert.Throws<UblkUnavailableException>(() => frontend.Start());
        Assert.Equal("ublk is not available: modprobe ublk_drv; needs kernel ≥ 6.0 built with CONFIG_BLK_DEV_UBLK", e.Message);
        frontend.Stop(); // idempotent after a failed start
        Assert.True(frontend.Completion.IsCompleted);
    }

    [Fact]
    public void Options_outside_what_ublk_accepts_are_refused_up_front()
    {
        var oddBlocks = new FailingBackend(_backend) { Declares = new DeviceCapabilities(LogicalBlockSize: 1024) };
        Assert.Contains("logical block size 1024", Assert.Throws<ArgumentException>(() => new UblkFrontend(oddBlocks, new FrontendOptions())).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new UblkFrontend(_backend, new FrontendOptions { QueueDepth = 4097 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UblkFrontend(_backend, new FrontendOptions { Queues = 0 }));
    }

    [Theory]
    [InlineData(512, 9)]
    [InlineData(4096, 12)]
    public void Params_advertise_cache_fua_discard_and_a_size_rounded_to_the_block(int blockSize, byte shift)
    {
        long size = 10 * 4096 + 1000; // not a multiple of either block size
        UblkParams p = UblkDeviceParams.Build(size, new DeviceCapabilities(blockSize), 512 * 1024);
        Assert.Equal(UblkConstants.ParamTypeBasic | UblkConstants.ParamTypeDiscard, p.Types);
        Assert.Equal(UblkConstants.AttrVolatileCache | UblkConstants.AttrFua, p.Basic.Attributes);
        Assert.Equal(shift, p.Basic.LogicalBlockShift);
        Assert.True(p.Basic.PhysicalBlockShift >= p.Basic.LogicalBlockShift);
        Assert.Equal(1024u, p.Basic.MaxSectors);
        Assert.Equal((ulong)(size / blockSize * blockSize / 512), p.Basic.DeviceSectors);
        Assert.Equal((uint)blockSize, p.Discard.DiscardGranularity);
        Assert.Equal(1, p.Discard.MaxDiscardSegments);
        Assert.Equal(0u, p.Discard.MaxDiscardSectors % (uint)(blockSize / 512));
        Assert.True((ulong)p.Discard.MaxWriteZeroesSectors << 9 <= uint.MaxValue);
    }

    [Fact]
    public void Params_advertise_only_what_the_backend_declares()
    {
        var bare = new DeviceCapabilities(4096, 16384, VolatileCache: false, Fua: false, Discard: false, WriteZeroes: false);
        UblkParams p = UblkDeviceParams.Build(1 << 20, bare, 512 * 1024);
        Assert.Equal(UblkConstants.ParamTypeBasic, p.Types);
        Assert.Equal(0u, p.Basic.Attributes);
        Assert.Equal(12, p.Basic.LogicalBlockShift);
        Assert.Equal(14, p.Basic.PhysicalBlockShift);

        UblkParams zeroesOnly = UblkDeviceParams.Build(1 << 20, bare with { WriteZeroes = true }, 512 * 1024);
        Assert.Equal(UblkConstants.ParamTypeBasic | UblkConstants.ParamTypeDiscard, zeroesOnly.Types);
        Assert.Equal(0u, zeroesOnly.Discard.MaxDiscardSectors);
        Assert.True(zeroesOnly.Discard.MaxWriteZeroesSectors > 0);
    }

    [Fact]
    public void Descriptor_mappings_use_the_fixed_stride_whatever_the_depth()
    {
        Assert.Equal(0, UblkQueue.DescriptorMapOffset(0));
        Assert.Equal(98304, UblkQueue.DescriptorMapOffset(1)); // round_up(4096 × 24, 4 KiB)
        Assert.Equal(3 * 98304, UblkQueue.DescriptorMapOffset(3));
        Assert.Equal((nuint)4096, UblkQueue.DescriptorMapLength(64));
        Assert.Equal((nuint)8192, UblkQueue.DescriptorMapLength(171)); // 171 × 24 = 4104
    }

    [Fact]
    public void Requests_map_to_backend_calls_and_commit_results()
    {
        const int bufferBytes = 64 * 1024;
        byte* buffer = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(bufferBytes, 4096);
        try
        {
            var data = new Span<byte>(buffer, 8192);
            data.Fill(0x5A);
            Assert.Equal(8192, Serve(_backend, Desc(UblkIoOp.Write, 8, 16), buffer, bufferBytes));
            Assert.Equal(0, Serve(_backend, Desc(UblkIoOp.Flush, 0, 0), buffer, bufferBytes));
            data.Clear();
            Assert.Equal(4096, Serve(_backend, Desc(UblkIoOp.Read, 12, 8), buffer, bufferBytes));
            Assert.True(data[..4096].IndexOfAnyExcept((byte)0x5A) < 0);

            Assert.Equal(0, Serve(_backend, Desc(UblkIoOp.WriteZeroes, 8, 8), buffer, bufferBytes));
            Assert.Equal(0, Serve(_backend, Desc(UblkIoOp.Discard, 16, 8), buffer, bufferBytes));
            byte[] file = File.ReadAllBytes(_path);
            Assert.True(file.AsSpan(4096, 8192).IndexOfAnyExcept((byte)0) < 0);

            long sectors = _backend.Size >> 9;
            Assert.Equal(-5, Serve(_backend, Desc(UblkIoOp.Read, (ulong)sectors - 1, 8), buffer, bufferBytes));
            Assert.Equal(-5, Serve(_backend, Desc(UblkIoOp.Write, 0, 256), buffer, bufferBytes)); // > buffer
            Assert.Equal(-95, Serve(_backend, Desc(UblkIoOp.WriteSame, 0, 8), buffer, bufferBytes));
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(buffer);
        }
    }

    [Fact]
    public void Fua_bit_reaches_the_backend_and_a_backend_error_is_committed_as_is()
    {
        var backend = new FailingBackend(_backend);
        byte* buffer = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(4096, 4096);
        try
        {
            UblksrvIoDesc fua = Desc(UblkIoOp.Write, 0, 8);
            fua.OpFlags |= UblkConstants.IoFlagFua;
            Assert.Equal(4096, Serve(backend, fua, buffer, 4096));
            Assert.True(backend.LastFua);
            Assert.Equal(4096, Serve(backend, Desc(UblkIoOp.Write, 0, 8), buffer, 4096));
            Assert.False(backend.LastFua);
            backend.Fail = -28;
            Assert.Equal(-28, Serve(backend, Desc(UblkIoOp.Write, 0, 8), buffer, 4096));
            Assert.Equal(-28, Serve(backend, Desc(UblkIoOp.Flush, 0, 0), buffer, 4096));
            backend.Throw = true;
            Assert.Equal(-5, Serve(backend, Desc(UblkIoOp.Read, 0, 8), buffer, 4096));
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(buffer);
        }
    }

    [Fact]
    public void Serving_requests_allocates_nothing_in_steady_state()
    {
        byte* buffer = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(65536, 4096);
        try
        {
            UblksrvIoDesc write = Desc(UblkIoOp.Write, 64, 128), read = Desc(UblkIoOp.Read, 64, 128), flush = Desc(UblkIoOp.Flush, 0, 0);
            for (int i = 0; i < 10; i++) // JIT, tiering and first-call stubs out of the way
            {
                Serve(_backend, write, buffer, 65536);
                Serve(_backend, read, buffer, 65536);
                Serve(_backend, flush, buffer, 65536);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            int failures = 0;
            for (int i = 0; i < 1000; i++)
            {
                failures += Serve(_backend, write, buffer, 65536) == 65536 ? 0 : 1;
                failures += Serve(_backend, read, buffer, 65536) == 65536 ? 0 : 1;
            }
            failures += Serve(_backend, flush, buffer, 65536) == 0 ? 0 : 1;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, failures);
            Assert.Equal(0, allocated);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(buffer);
        }
    }

    /// <summary>What a queue does with one request, served synchronously: translate, call the backend, commit value.</summary>
    private static int Serve(IBlockBackend backend, in UblksrvIoDesc desc, byte* buffer, int bufferBytes) =>
        UblkRequestDispatch.TryTranslate(desc, backend.Size, bufferBytes, out BlockRequest request, out int error)
            ? UblkRequestDispatch.CommitResult(request, request.ServeSync(backend, buffer))
            : error;

    private static UblksrvIoDesc Desc(UblkIoOp op, ulong sector, uint sectors)
        => new() { OpFlags = (uint)op, StartSector = sector, NrSectors = sectors };

    /// <summary>A real FileBackend that can be told to fail or throw, and remembers the FUA flag it was given.</summary>
    private sealed class FailingBackend(IBlockBackend inner) : IBlockBackend
    {
        public int Fail;
        public bool Throw;
        public bool LastFua;
        /// <summary>What it says it is, instead of what the inner backend says.</summary>
        public DeviceCapabilities? Declares;
        public long Size => inner.Size;
        public DeviceCapabilities Capabilities => Declares ?? inner.Capabilities;
        public int Read(long offset, Span<byte> destination) => Throw ? throw new InvalidOperationException() : Fail != 0 ? Fail : inner.Read(offset, destination);
        public int Write(long offset, ReadOnlySpan<byte> source, bool fua)
        {
            LastFua = fua;
            return Fail != 0 ? Fail : inner.Write(offset, source, fua);
        }
        public int Flush() => Fail != 0 ? Fail : inner.Flush();
        public int Discard(long offset, long length) => inner.Discard(offset, length);
        public int WriteZeroes(long offset, long length) => inner.WriteZeroes(offset, length);
        public void Dispose() { }
    }
}
