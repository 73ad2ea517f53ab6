using System.Globalization;

namespace FastLog.Tests.Support;

/// <summary>
/// A file attached to a real loop device (<c>losetup</c>), detached at dispose after unmounting
/// <see cref="MountPoint"/>. The one way tests attach a loop device from C#: either a fresh sparse image in its
/// own temp directory (the constructor) or an existing file (<see cref="Attach"/>).
/// </summary>
internal sealed class LoopImage : IDisposable
{
    private TempDirectory? _dir;

    /// <summary>A sparse image of <paramref name="size"/> bytes in a fresh temp directory, attached, then
    /// formatted by <paramref name="mkfs"/> (a command line the device path is appended to) when given.</summary>
    public LoopImage(long size, string? mkfs = null, int? sectorSize = null, bool directIo = false)
    {
        _dir = new TempDirectory();
        ImagePath = _dir.Sparse("disk.img", size);
        Device = Losetup(ImagePath, sectorSize, directIo);
        if (mkfs is not null)
            Shell.Check($"{mkfs} {Device}");
    }

    private LoopImage(string imagePath, int? sectorSize, bool directIo)
    {
        ImagePath = imagePath;
        Device = Losetup(imagePath, sectorSize, directIo);
    }

    /// <summary>Attaches the existing file <paramref name="imagePath"/> (left in place at dispose).</summary>
    public static LoopImage Attach(string imagePath, int? sectorSize = null, bool directIo = false) =>
        new(imagePath, sectorSize, directIo);

    /// <summary>The loop device, e.g. /dev/loop3.</summary>
    public string Device { get; }
    public string ImagePath { get; }

    private TempDirectory Dir => _dir ??= new TempDirectory();

    /// <summary><c>mnt</c> in this image's temp directory (created by <see cref="Mount"/>).</summary>
    public string MountPoint => Dir.File("mnt");

    /// <summary>A file in the image's temp directory (not on the device).</summary>
    public string File(string name) => Dir.File(name);

    public void Mount() => Shell.Check($"mkdir -p {MountPoint} && mount {Device} {MountPoint}");

    public void Dispose()
    {
        Shell.Run(_dir is null ? $"losetup -d {Device}" : $"umount {MountPoint} 2>/dev/null; losetup -d {Device}");
        _dir?.Dispose();
    }

    private static string Losetup(string imagePath, int? sectorSize, bool directIo)
    {
        string options = (directIo ? " --direct-io=on" : "")
            + (sectorSize is int s ? $" --sector-size {s.ToString(CultureInfo.InvariantCulture)}" : "");
        return Shell.Check($"losetup --find --show{options} {imagePath}").Trim();
    }
}
