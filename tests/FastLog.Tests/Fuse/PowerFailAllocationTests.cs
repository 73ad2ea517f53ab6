using FastLog.Backends;
using FastLog.Capture;
using FastLog.Tests.Support;

namespace FastLog.Tests.Fuse;

[Collection("fuse")]
public class PowerFailAllocationTests
{
    /// <summary>The power-fail stack, LoggingBackend(VolatileCache(File)), allocates nothing per request once warm.</summary>
    [Fact]
    public void The_logged_volatile_cache_allocates_nothing_per_request_in_steady_state()
    {
        using var dir = new TempDirectory();
        string backingPath = dir.Sparse("backing.img", 128L << 20);
        var cache = new VolatileCacheBackend(FileBackend.Open(backingPath), VolatileCacheBackend.DefaultCapacity, 512, PowerFailKeep.None);
        using var backend = new LoggingBackend(cache, CaptureLog.Create(dir.File("log"), 512));
        FuseLoggingTests.AssertWorkersAllocateNothing(backend);
    }
}
