using FastLog.Interop;
using FastLog.Tests.Support;

namespace FastLog.Tests.Backends;

/// <summary>
/// The O_DIRECT unit of a block device and of a file on it, as the kernel reports it and as the read probe finds it
/// (the probe is what kernels before statx DIOALIGN get), on real loop devices of each logical block size.
/// </summary>
public sealed class DirectIoAlignmentTests
{
    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public void ProbeFindsWhatTheKernelReportsOnADeviceAndOnAFileOnIt(int sectorSize)
    {
        using var dir = new TempDirectory();
        string image = dir.Sparse("disk.img", 64 << 20);
        string mount = dir.File("mnt");
        string loop = Shell.Check($"losetup --find --show --direct-io=on --sector-size {sectorSize} {image}").Trim();
        try
        {
            Shell.Check($"mkfs.ext4 -q -b 4096 {loop} && mkdir {mount} && mount {loop} {mount} && " +
                        $"dd if=/dev/urandom of={mount}/file bs=1M count=1 status=none");
            try
            {
                Assert.Equal(sectorSize, DirectIoAlignment.Reported(loop));
                Assert.Equal(sectorSize, DirectIoAlignment.Probe(loop));
                Assert.Equal(sectorSize, DirectIoAlignment.Reported($"{mount}/file"));
                Assert.Equal(sectorSize, DirectIoAlignment.Probe($"{mount}/file"));
            }
            finally
            {
                Shell.Run($"umount {mount}");
            }
        }
        finally
        {
            Shell.Run($"losetup -d {loop}");
        }
    }

    [Fact]
    public void ProbeSaysNothingWhereItCannotTell()
    {
        using var dir = new TempDirectory();
        Assert.Null(DirectIoAlignment.Probe(dir.File("missing")));
        string tiny = dir.File("tiny");
        File.WriteAllBytes(tiny, new byte[100]);
        Assert.Null(DirectIoAlignment.Probe(tiny)); // shorter than the probe reads: no answer rather than a guess
    }
}
