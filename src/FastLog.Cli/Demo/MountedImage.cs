namespace FastLog.Cli.Demo;

/// <summary>An image or device mounted read-only at a temporary directory; unmounted and detached on dispose.</summary>
internal sealed class MountedImage : IDisposable
{
    private readonly string? _loop;

    public MountedImage(string imageOrDevice)
    {
        if (!imageOrDevice.StartsWith("/dev/", StringComparison.Ordinal))
            _loop = Shell.Must("losetup", "--find", "--show", imageOrDevice).Trim();
        Root = Directory.CreateTempSubdirectory("fastlog-demo-mnt.").FullName;
        // -o ro on a writable device still lets ext4 replay its journal, as a real reboot would.
        (int status, string output) = Shell.Capture("mount", "-o", "ro", _loop ?? imageOrDevice, Root);
        if (status != 0)
        {
            Dispose();
            throw new DemoException($"mount of {imageOrDevice} failed: {output.Trim()}");
        }
        Mounted = true;
    }

    public string Root { get; }
    private bool Mounted { get; set; }

    public void Dispose()
    {
        if (Mounted)
            Shell.Capture("umount", Root);
        Mounted = false;
        if (_loop != null)
            Shell.Capture("losetup", "-d", _loop);
        Directory.Delete(Root);
    }
}
