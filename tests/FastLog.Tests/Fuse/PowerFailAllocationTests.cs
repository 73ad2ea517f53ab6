using FastLog.Backends;
using FastLog.Capture;
using FastLog.Frontends;
using FastLog.Frontends.Fuse;

namespace FastLog.Tests.Fuse;

[Collection("fuse")]
public class PowerFailAllocationTests
{
    /// <summary>The power-fail stack, LoggingBackend(VolatileCache(File)), allocates nothing per request once warm.</summary>
    [Fact]
    public void The_logged_volatile_cache_allocates_nothing_per_request_in_steady_state()
    {
        using var dir = new Shell.TempDir();
        string backingPath = dir.Sparse("backing.img", 128L << 20);
        var cache = new VolatileCacheBackend(FileBackend.Open(backingPath), VolatileCacheBackend.DefaultCapacity, 512, PowerFailKeep.None);
        using var backend = new LoggingBackend(cache, CaptureLog.Create(dir.File("log"), 512));
        using var frontend = new FuseFrontend(backend, new FrontendOptions());
        string device = frontend.Start();
        Shell.Check($"""
            fio --name=alloc --filename={device} --direct=1 --ioengine=libaio --iodepth=16 --rw=randrw --bs=4k \
                --size=64M --numjobs=2 --time_based --runtime=3 --fsync=16 --group_reporting >/dev/null
            """, 120);
        FuseSession session = frontend.Session!;
        Assert.True(session.WarmWorkers > 0, "no worker served enough requests to measure");
        Assert.Equal(0, session.SteadyStateAllocatedBytes);
        frontend.Stop();
        Assert.Equal(0, session.UnexpectedErrors);
    }
}
