using FastLog.Backends;
using FastLog.Capture;
using FastLog.Frontends;
using FastLog.Frontends.Fuse;
using FastLog.Tests.Support;

namespace FastLog.Tests.Fuse;

[Collection("fuse")]
public class FuseLoggingTests
{
    [Theory]
    [MemberData(nameof(FuseFilesystemTests.FileSystems), MemberType = typeof(FuseFilesystemTests))]
    public void Logged_filesystem_workload_replays_to_an_identical_image(string fs, string mkfs, string fsck) =>
        LoggedWorkloadReplaysIdentically(fs, mkfs, fsck, 512, 320L << 20);

    [Fact]
    public void Logical_block_size_4096_gives_a_4096_byte_device_and_log() =>
        LoggedWorkloadReplaysIdentically("ext4", "mkfs.ext4 -q -F", "e2fsck -fn", 4096, 128L << 20);

    /// <summary>mkfs, a mark, the workload, umount; then fsck of the backing and a replay identical to it.</summary>
    private static void LoggedWorkloadReplaysIdentically(string fs, string mkfs, string fsck, int blockSize, long size)
    {
        using var dir = new TempDirectory();
        string backingPath = dir.Sparse("backing.img", size);
        string logPath = dir.File("log");
        File.WriteAllText(dir.File("workload.sh"), FuseFilesystemTests.Workload);
        using (var backend = LoggingBackend.Open(backingPath, logPath, blockSize))
        using (var frontend = new FuseFrontend(backend, new FrontendOptions()))
        {
            string device = frontend.Start();
            Assert.Equal(blockSize.ToString(), Shell.Check($"blockdev --getss {device}").Trim());
            Shell.Check($"{mkfs} {device}", 120);
            Assert.Equal(0, backend.Mark("mkfs"));
            Shell.Check($"""
                set -e
                mkdir -p {dir.Path}/mnt
                mount -t {fs} {device} {dir.Path}/mnt
                bash {dir.File("workload.sh")} {dir.Path}/mnt
                umount {dir.Path}/mnt
                """, 300);
            frontend.Stop();
            Assert.Equal(0, frontend.Session!.UnexpectedErrors);
        }
        Shell.Check($"{fsck} {backingPath}", 300);
        string replayed = dir.Sparse("replayed.img", size);
        Assert.True(FastlogReplay.Entries(logPath) > 100);
        Assert.True(FastlogReplay.HasMark(logPath, "mkfs"));
        FastlogReplay.Apply(logPath, replayed);
        FastlogReplay.AssertIdentical(backingPath, replayed);
    }

    [Fact]
    public void Fio_verify_crc32c_with_fsync_and_several_jobs_has_no_errors()
    {
        using var dir = new TempDirectory();
        long size = 256L << 20;
        string backingPath = dir.Sparse("backing.img", size);
        string logPath = dir.File("log");
        using (var backend = LoggingBackend.Open(backingPath, logPath, 512))
        using (var frontend = new FuseFrontend(backend, new FrontendOptions()))
        {
            string device = frontend.Start();
            string output = Shell.Check($"""
                fio --name=verify --filename={device} --direct=1 --ioengine=psync --rw=randwrite --bs=4k \
                    --size=32M --numjobs=4 --offset_increment=64M --verify=crc32c --fsync=1 \
                    --verify_fatal=1 --do_verify=1 --group_reporting 2>&1
                """, 300);
            Assert.DoesNotContain("verify: bad", output);
            Assert.Contains("err= 0", output);
            frontend.Stop();
            Assert.Equal(0, frontend.Session!.UnexpectedErrors);
        }
        string replayed = dir.Sparse("replayed.img", size);
        FastlogReplay.Apply(logPath, replayed);
        FastlogReplay.AssertIdentical(backingPath, replayed);
    }

    [Fact]
    public void Workers_allocate_nothing_per_request_in_steady_state()
    {
        using var dir = new TempDirectory();
        string backingPath = dir.Sparse("backing.img", 128L << 20);
        using var backing = FileBackend.Open(backingPath);
        AssertWorkersAllocateNothing(backing);
    }

    /// <summary>fio's random read/write with fsyncs through <paramref name="backend"/>: no allocations once warm.</summary>
    internal static void AssertWorkersAllocateNothing(IBlockBackend backend)
    {
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
