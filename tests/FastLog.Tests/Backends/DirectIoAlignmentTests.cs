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
        using var disk = new LoopImage(64 << 20, "mkfs.ext4 -q -b 4096", sectorSize, directIo: true);
        disk.Mount();
        Shell.Check($"dd if=/dev/urandom of={disk.MountPoint}/file bs=1M count=1 status=none");
        Assert.Equal(sectorSize, DirectIoAlignment.Reported(disk.Device));
        Assert.Equal(sectorSize, DirectIoAlignment.Probe(disk.Device));
        Assert.Equal(sectorSize, DirectIoAlignment.Reported($"{disk.MountPoint}/file"));
        Assert.Equal(sectorSize, DirectIoAlignment.Probe($"{disk.MountPoint}/file"));
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
