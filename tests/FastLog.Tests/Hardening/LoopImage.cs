using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>A sparse image file under /var/tmp attached to a real loop device, detached at dispose.</summary>
internal sealed class LoopImage : IDisposable
{
    private readonly TempDirectory _dir = new();

    public LoopImage(long size, string? mkfs = null)
    {
        ImagePath = _dir.Sparse("disk.img", size);
        Device = Shell.Check($"losetup -f --show {ImagePath}").Trim();
        if (mkfs is not null)
            Shell.Check($"{mkfs} {Device}");
    }

    public string Device { get; }
    public string ImagePath { get; }
    public string MountPoint => _dir.File("mnt");

    /// <summary>A file in the test's directory (not on the device).</summary>
    public string File(string name) => _dir.File(name);

    public void Mount() => Shell.Check($"mkdir -p {MountPoint} && mount {Device} {MountPoint}");

    public void Dispose()
    {
        Shell.Run($"umount {MountPoint} 2>/dev/null; losetup -d {Device}");
        _dir.Dispose();
    }
}
