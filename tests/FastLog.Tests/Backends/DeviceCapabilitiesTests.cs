using FastLog.Backends;
using FastLog.Capture;
using FastLog.Explorer;
using FastLog.Interop;
using FastLog.Tests.Support;

namespace FastLog.Tests.Backends;

/// <summary>
/// Each layer of a stack declares what the device is, once, from its inner layer's declaration: the logged device
/// always has a volatile cache and FUA (the log must see every durability point), a crash state has none, and a layer
/// whose unit is smaller than its inner one's is refused where it is built, not at the first request.
/// </summary>
[Collection("fuse")]
public class DeviceCapabilitiesTests
{
    [Fact]
    public void A_logged_device_declares_a_cache_and_fua_at_the_log_sector_size_even_over_memory()
    {
        using var dir = new TempDirectory();
        var memory = new MemoryBackend(1 << 20);
        Assert.False(memory.Capabilities.VolatileCache);
        Assert.False(memory.Capabilities.Fua);
        using var logged = new LoggingBackend(memory, CaptureLog.Create(dir.File("log"), 4096));
        Assert.Equal(new DeviceCapabilities(4096, 4096, VolatileCache: true, Fua: true), logged.Capabilities);
    }

    [Fact]
    public void A_layer_smaller_than_its_inner_unit_is_refused_when_built()
    {
        using var dir = new TempDirectory();
        using var memory = new MemoryBackend(8 << 20, logicalBlockSize: 4096);
        using (var log = CaptureLog.Create(dir.File("log"), 512))
            Assert.Contains("below the inner backend's logical block size 4096",
                Assert.Throws<ArgumentException>(() => new LoggingBackend(memory, log)).Message);
        Assert.Contains("below the inner backend's logical block size 4096",
            Assert.Throws<ArgumentException>(() => new VolatileCacheBackend(memory, 4 << 20, 512, PowerFailKeep.None)).Message);
        Assert.Throws<ArgumentException>(() => new MemoryBackend(4096, logicalBlockSize: 1024));
    }

    [Fact]
    public void A_volatile_cache_declares_itself_and_a_crash_state_declares_no_cache()
    {
        using var dir = new TempDirectory();
        using var cache = new VolatileCacheBackend(new MemoryBackend(8 << 20), 4 << 20, 4096, PowerFailKeep.None);
        Assert.Equal(new DeviceCapabilities(4096, 4096, VolatileCache: true, Fua: true), cache.Capabilities);

        string image = dir.Sparse("durable.img", 1 << 20);
        using var log = File.OpenHandle(image);
        using var state = new CrashStateBackend(image, log, dir.File("throwaway.img"), 512);
        Assert.Equal(new DeviceCapabilities(512, 4096, VolatileCache: false, Fua: false, Discard: true, WriteZeroes: true), state.Capabilities);
    }

    [Fact]
    public void Contradictions_are_named()
    {
        Assert.Null(new DeviceCapabilities().Problem());
        Assert.Contains("not 512 or 4096", new DeviceCapabilities(LogicalBlockSize: 2048).Problem());
        Assert.Contains("physical block size 512", new DeviceCapabilities(4096, 512).Problem());
        Assert.Contains("FUA without a volatile cache", new DeviceCapabilities(VolatileCache: false).Problem());
    }

    /// <summary>The synchronous path records a failed read as the ring path does, so capture can name it.</summary>
    [Fact]
    public void A_read_the_backing_fails_is_named_on_the_synchronous_path()
    {
        using var dir = new TempDirectory();
        using var logged = new LoggingBackend(new OtherBackend(new MemoryBackend(1 << 20)) { FailReads = true }, CaptureLog.Create(dir.File("log"), 512));
        Assert.Equal(-Libc.EIO, logged.Read(8192, new byte[4096]));
        Assert.Equal(1, logged.BackingFailures);
        Assert.Equal("read of 4096 bytes at byte 8192: Input/output error", logged.FirstBackingFailure);
        Assert.Equal(0, logged.Write(0, new byte[512], fua: true)); // the device still serves writes, and logs them
    }

    /// <summary>A FUSE device's backend that declares no DISCARD never sees one: loop's punch-hole is refused with
    /// EOPNOTSUPP, and the data stays.</summary>
    [Fact]
    public void A_fuse_device_refuses_the_discard_its_backend_does_not_declare()
    {
        var memory = new MemoryBackend(4 << 20);
        using var backend = new OtherBackend(memory) { Declares = memory.Capabilities with { Discard = false, WriteZeroes = false } };
        Assert.Equal(0, backend.Write(0, Enumerable.Repeat((byte)0x5A, 4096).ToArray(), fua: false));
        using var frontend = new Frontends.Fuse.FuseFrontend(backend, new Frontends.FrontendOptions());
        string device = frontend.Start();
        Shell.Run($"blkdiscard -o 0 -l 4096 {device}"); // loop may report it done: a DISCARD promises nothing of the data
        var back = new byte[4096];
        Assert.Equal(0, memory.Read(0, back));
        Assert.All(back, b => Assert.Equal(0x5A, b));
    }

    private sealed class OtherBackend(MemoryBackend inner) : IBlockBackend
    {
        public bool FailReads { get; init; }
        public DeviceCapabilities? Declares { get; init; }
        public long Size => inner.Size;
        public DeviceCapabilities Capabilities => Declares ?? inner.Capabilities;
        public int Read(long offset, Span<byte> destination) => FailReads ? -Libc.EIO : inner.Read(offset, destination);
        public int Write(long offset, ReadOnlySpan<byte> source, bool fua) => inner.Write(offset, source, fua);
        public int Flush() => inner.Flush();
        public int Discard(long offset, long length) => inner.Discard(offset, length);
        public int WriteZeroes(long offset, long length) => inner.WriteZeroes(offset, length);
        public void Dispose() => inner.Dispose();
    }
}
