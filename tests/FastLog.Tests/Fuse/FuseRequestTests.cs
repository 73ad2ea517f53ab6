using FastLog.Backends;
using FastLog.Frontends;
using FastLog.Frontends.Fuse;
using FastLog.Interop;
using FastLog.Tests.Support;

namespace FastLog.Tests.Fuse;

/// <summary>
/// The FUSE frontend answers the device's I/O by ublk's rules (a range outside the device is EIO, an operation the
/// backend does not declare is EOPNOTSUPP) and serves it through BlockRequest's guard, so a backend that throws fails
/// one request instead of killing a worker thread.
/// </summary>
[Collection("fuse")]
public sealed unsafe class FuseRequestTests
{
    [Fact]
    public void A_write_past_the_end_of_the_device_fails_with_eio_as_on_ublk()
    {
        using var backend = new MemoryBackend(1 << 20);
        using var frontend = new FuseFrontend(backend, new FrontendOptions());
        frontend.Start();
        (int exit, string output) = Shell.Run($"dd if=/dev/zero of={frontend.FilePath} bs=4096 count=1 seek=256 oflag=direct conv=notrunc status=none");
        Assert.NotEqual(0, exit);
        Assert.Contains("Input/output error", output);
        Shell.Check($"dd if=/dev/zero of={frontend.FilePath} bs=4096 count=1 seek=255 oflag=direct conv=notrunc status=none"); // the last block is in range
    }

    [Fact]
    public void A_backend_that_throws_fails_that_request_and_the_device_serves_on()
    {
        using var backend = new ThrowingBackend(new MemoryBackend(1 << 20));
        var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var frontend = new FuseFrontend(backend, new FrontendOptions(), said.Enqueue);
        string device = frontend.Start();
        backend.ThrowOnWrite = true;
        (int exit, string output) = Shell.Run($"dd if=/dev/zero of={device} bs=4096 count=1 oflag=direct status=none");
        Assert.NotEqual(0, exit);
        Assert.Contains("Input/output error", output);
        backend.ThrowOnWrite = false;
        Shell.Check($"for i in $(seq 8); do dd if=/dev/urandom of={device} bs=4096 count=1 seek=$i oflag=direct status=none; done"); // every worker still serves
        Assert.Equal(0, frontend.Session!.UnexpectedErrors);
        Assert.Equal(1, frontend.Session.BackendExceptions); // dd's one write; the bug is said once, not swallowed
        Assert.Contains(said, line => line.StartsWith("fastlog: the backend threw on a Write of 4096 bytes at byte 0 (InvalidOperationException: a backend bug)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0u, true, true, null, 0)]                  // preallocate: nothing to do
    [InlineData(2u | 1u, true, true, "Discard", 0)]   // punch-hole (loop's discard)
    [InlineData(2u | 1u, false, true, "WriteZeroes", 0)] // a hole reads zeros: zeroing serves it
    [InlineData(0x10u, true, true, "WriteZeroes", 0)]
    [InlineData(0x10u, true, false, null, -Libc.EOPNOTSUPP)]
    [InlineData(2u | 1u, false, false, null, -Libc.EOPNOTSUPP)]
    public void Fallocate_becomes_what_the_backend_declares(uint mode, bool discard, bool zeroes, string? op, int error)
    {
        var f = new FuseFAllocateIn { Offset = 4096, Length = 8192, Mode = mode };
        var capabilities = new DeviceCapabilities(Discard: discard, WriteZeroes: zeroes);
        bool serve = FuseRequestDispatch.TryFAllocate(&f, 1 << 20, capabilities, out BlockRequest request, out int got);
        Assert.Equal(op is not null, serve);
        Assert.Equal(error, got);
        if (op is not null)
            Assert.Equal(new BlockRequest(Enum.Parse<BlockOp>(op), 4096, 8192), request);
    }

    [Theory]
    [InlineData(1L << 20, 4096UL)]            // starts at the end
    [InlineData((1L << 20) - 4096, 8192UL)]   // runs past it
    [InlineData(-4096L, 4096UL)]              // an offset of 2^64 - 4096
    public void Ranges_outside_the_device_are_eio(long offset, ulong length)
    {
        var f = new FuseFAllocateIn { Offset = unchecked((ulong)offset), Length = length, Mode = 2 | 1 };
        Assert.False(FuseRequestDispatch.TryFAllocate(&f, 1 << 20, new DeviceCapabilities(), out _, out int error));
        Assert.Equal(-Libc.EIO, error);
        byte* body = stackalloc byte[sizeof(FuseIoIn) + 8192];
        *(FuseIoIn*)body = new FuseIoIn { Offset = unchecked((ulong)offset), Size = (uint)length };
        Assert.False(FuseRequestDispatch.TryWrite((FuseIoIn*)body, sizeof(FuseIoIn) + (int)length, 1 << 20, out _, out error));
        Assert.Equal(-Libc.EIO, error);
        var read = new FuseIoIn { Offset = unchecked((ulong)offset), Size = (uint)length };
        Assert.InRange(FuseRequestDispatch.Read(&read, 1 << 20, 1 << 20).Length, 0, 4096); // a read past the end is short
    }

    private sealed class ThrowingBackend(MemoryBackend inner) : IBlockBackend
    {
        public volatile bool ThrowOnWrite;
        public long Size => inner.Size;
        public DeviceCapabilities Capabilities => inner.Capabilities;
        public int Read(long offset, Span<byte> destination) => inner.Read(offset, destination);
        public int Write(long offset, ReadOnlySpan<byte> source, bool fua) =>
            ThrowOnWrite ? throw new InvalidOperationException("a backend bug") : inner.Write(offset, source, fua);
        public int Flush() => inner.Flush();
        public int Discard(long offset, long length) => inner.Discard(offset, length);
        public int WriteZeroes(long offset, long length) => inner.WriteZeroes(offset, length);
        public void Dispose() => inner.Dispose();
    }
}
