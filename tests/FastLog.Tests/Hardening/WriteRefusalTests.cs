using System.Security.Cryptography;
using FastLog.Interop;
using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>
/// FastLog never writes where that destroys data: a mounted or held block device (O_EXCL: EBUSY), or the log
/// being replayed (same inode, through a symlink or a hard link, or another node of the same device). Real loop
/// devices, a real mounted ext4 and e2fsck, the CLI in a child process.
/// </summary>
[Collection("loop")]
public sealed class WriteRefusalTests
{
    private static readonly string Fastlog = FastlogBinary.Path;

    /// <summary>A log whose one write covers the first 64 KiB of a device: the ext4 super block and group descriptors.</summary>
    private static string SmashingLog(string path)
    {
        using var writer = LogWriter.Create(path);
        writer.AppendWrite(0, LogBytes.Pattern(64 << 10, 7));
        return path;
    }

    [Fact]
    public void ReplayOntoAMountedFileSystemIsRefusedAndTheFileSystemSurvives()
    {
        using var disk = new LoopImage(32 << 20, "mkfs.ext4 -q -F");
        disk.Mount();
        Shell.Check($"echo precious > {disk.MountPoint}/data && sync");
        string log = SmashingLog(disk.File("smash.log"));

        (int exit, string output) = Shell.Run($"{Fastlog} replay --log {log} --replay {disk.Device}");

        Assert.Equal(1, exit);
        Assert.Contains($"{disk.Device}: the replay target is a block device in use (mounted", output);
        Assert.Equal("precious\n", System.IO.File.ReadAllText(Path.Combine(disk.MountPoint, "data")));
        Shell.Check($"umount {disk.MountPoint} && e2fsck -fn {disk.Device}");
    }

    [Fact]
    public void CaptureOfAMountedBackingDeviceIsRefused()
    {
        using var disk = new LoopImage(32 << 20, "mkfs.ext4 -q -F");
        disk.Mount();

        (int exit, string output) = Shell.Run($"{Fastlog} capture --frontend fuse --backing {disk.Device} --log {disk.File("c.log")}", 60);

        Assert.Equal(1, exit);
        Assert.Contains("the backing store is a block device in use (mounted", output);
        Assert.DoesNotContain("O_DIRECT refused", output); // busy is not retried through the page cache
        Assert.False(System.IO.File.Exists(disk.File("c.log")));
    }

    [Fact]
    public void ReplayOntoADeviceHeldExclusivelyByAnotherProgramIsRefused()
    {
        using var disk = new LoopImage(8 << 20);
        string log = SmashingLog(disk.File("smash.log"));
        int holder = Libc.Open(disk.Device, Libc.O_RDONLY | Libc.O_EXCL | Libc.O_CLOEXEC, 0);
        Assert.True(holder >= 0, $"cannot hold {disk.Device}: errno {Libc.Errno}");
        try
        {
            (int exit, string output) = Shell.Run($"{Fastlog} replay --log {log} --replay {disk.Device}");
            Assert.Equal(1, exit);
            Assert.Contains("block device in use", output);
            (exit, output) = Shell.Run($"{Fastlog} capture --frontend fuse --backing {disk.Device} --log {disk.File("c.log")}", 60);
            Assert.Equal(1, exit);
            Assert.Contains("block device in use", output);
        }
        finally
        {
            Libc.Close(holder);
        }
        Assert.Equal(new byte[64 << 10], ReadPrefix(disk.ImagePath, 64 << 10)); // nothing was written
        Shell.Check($"{Fastlog} replay --log {log} --replay {disk.Device}"); // released: the same replay works
        Assert.Equal(LogBytes.Pattern(64 << 10, 7), ReadPrefix(disk.ImagePath, 64 << 10));
    }

    [Theory]
    [InlineData("itself")]
    [InlineData("symlink")]
    [InlineData("hardlink")]
    public void ReplayOntoTheLogItselfIsRefused(string how)
    {
        using var dir = new TempDirectory();
        string log = SmashingLog(dir.File("run.log"));
        string target = how switch
        {
            "itself" => log,
            "symlink" => dir.File("alias"),
            _ => dir.File("link"),
        };
        if (how == "symlink")
            System.IO.File.CreateSymbolicLink(target, log);
        if (how == "hardlink")
            Shell.Check($"ln {log} {target}");
        byte[] before = SHA256.HashData(System.IO.File.ReadAllBytes(log));

        (int exit, string output) = Shell.Run($"{Fastlog} replay --log {log} --replay {target}");

        Assert.Equal(1, exit);
        Assert.Contains($"it is the log {log} itself", output);
        Assert.Equal(before, SHA256.HashData(System.IO.File.ReadAllBytes(log)));
    }

    [Fact]
    public void ReplayOntoAnotherNodeOfTheLogsBlockDeviceIsRefused()
    {
        using var disk = new LoopImage(1 << 20);
        string log = SmashingLog(disk.File("smash.log"));
        Shell.Check($"dd if={log} of={disk.Device} conv=fsync status=none");
        string alias = disk.File("alias-node");
        Shell.Check($"mknod {alias} b $((0x$(stat -c %t {disk.Device}))) $((0x$(stat -c %T {disk.Device})))");
        byte[] before = SHA256.HashData(System.IO.File.ReadAllBytes(disk.ImagePath));

        (int exit, string output) = Shell.Run($"{Fastlog} replay --log {disk.Device} --replay {alias}");

        Assert.Equal(1, exit);
        Assert.Contains("itself (same device and inode)", output);
        Assert.Equal(before, SHA256.HashData(System.IO.File.ReadAllBytes(disk.ImagePath)));
    }

    private static byte[] ReadPrefix(string path, int length)
    {
        using var stream = System.IO.File.OpenRead(path);
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
