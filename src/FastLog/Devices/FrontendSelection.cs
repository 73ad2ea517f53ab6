using FastLog.Backends;
using FastLog.Frontends;
using FastLog.Frontends.Fuse;
using FastLog.Frontends.Ublk;

namespace FastLog.Devices;

/// <summary>Which frontend shows a backend to the kernel, and the fallback from ublk to FUSE, in one place.</summary>
public static class FrontendSelection
{
    public const string UblkControl = "/dev/ublk-control";
    public const string UblkHelp = "modprobe ublk_drv; kernel >= 6.0 built with CONFIG_BLK_DEV_UBLK";

    /// <summary>
    /// Starts a frontend for <paramref name="backend"/>: ublk or FUSE as asked; with <see cref="FrontendKind.Auto"/>,
    /// ublk when /dev/ublk-control exists and works, else FUSE (saying why through <paramref name="say"/>).
    /// Returns the started frontend, its kernel device path and its name.
    /// </summary>
    /// <exception cref="IOException">No frontend could be started; the message says why.</exception>
    public static (IBlockFrontend Frontend, string Path, string Name) Start(IBlockBackend backend, FrontendKind kind, FrontendOptions options, Action<string>? say)
    {
        bool ublkPresent = File.Exists(UblkControl);
        if (kind == FrontendKind.Ublk && !ublkPresent)
            throw new IOException($"{UblkControl} is missing: no ublk on this kernel ({UblkHelp}); the FUSE frontend works without it");
        if (kind == FrontendKind.Auto && !ublkPresent)
            say?.Invoke($"fastlog: {UblkControl} not found, using the FUSE frontend (for ublk: {UblkHelp})");
        if (kind == FrontendKind.Fuse || (kind == FrontendKind.Auto && !ublkPresent))
            return (Started(new FuseFrontend(backend, options, say), out string fusePath), fusePath, "fuse");
        try
        {
            return (Started(new UblkFrontend(backend, options, say), out string ublkPath), ublkPath, "ublk");
        }
        catch (UblkUnavailableException e) when (kind == FrontendKind.Auto)
        {
            // /dev/ublk-control exists but ublk cannot be used (permissions, a kernel without it): FUSE.
            say?.Invoke($"fastlog: ublk unavailable ({e.Message}); using the FUSE frontend");
            return (Started(new FuseFrontend(backend, options, say), out string fusePath), fusePath, "fuse");
        }
    }

    private static IBlockFrontend Started(IBlockFrontend frontend, out string path)
    {
        try
        {
            path = frontend.Start();
            return frontend;
        }
        catch (Exception e) when (e is InvalidOperationException or UnauthorizedAccessException or ArgumentException)
        {
            frontend.Dispose();
            throw new IOException(e.Message, e);
        }
        catch
        {
            frontend.Dispose();
            throw;
        }
    }
}
