using FastLog.Backends;

namespace FastLog.Capture;

/// <summary>
/// The control requests of a capture's socket (<see cref="MarkServer"/>) for power-fail injection, answered for one
/// <see cref="LoggingBackend"/>: <c>powerfail [KEEP]</c>, <c>poweron</c> and <c>status</c>. Replies are one line of
/// <c>key=value</c> pairs after "ok", so scripts can read them.
/// </summary>
public static unsafe class PowerControl
{
    private const ulong BLKFLSBUF = 0x1261; // _IO(0x12, 97)

    /// <summary>Reply to a cut that had already happened, and to poweron on a powered device: the caller's exit code 2.</summary>
    public const string WrongState = "wrong-state: ";

    public static string Handle(LoggingBackend device, string request)
    {
        string[] words = request.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
            return "error: empty command";
        if (!device.CanPowerFail)
            return "error: this capture has no volatile cache to lose power (start it with --power-fail)";
        switch (words[0])
        {
            case "status" when words.Length == 1:
                return $"ok power={(device.PoweredOff ? "off" : "on")}";
            case "poweron" when words.Length == 1:
                return device.PowerOn() ? "ok power=on" : $"error: {WrongState}the power is on";
            case "powerfail" when words.Length <= 2:
                PowerFailKeep? keep = null;
                if (words.Length == 2)
                {
                    if (!PowerFailKeep.TryParse(words[1], out PowerFailKeep parsed, out string? error))
                        return $"error: {error}";
                    keep = parsed;
                }
                PowerCutResult? cut = device.PowerFail(keep);
                return cut is null ? $"error: {WrongState}the power is already off" : "ok " + Describe(cut, device.Log.SectorSize);
            default:
                return $"error: unknown command '{request}' (powerfail [KEEP], poweron, status)";
        }
    }

    /// <summary>One line of key=value pairs: keep=POLICY cached=N kept=K block-size=B (blocks of B bytes) error=0.</summary>
    public static string Describe(PowerCutResult cut, int blockSize) =>
        $"keep={cut.Keep} cached={cut.CachedBlocks} kept={cut.KeptBlocks} block-size={blockSize}" +
        (cut.Error != 0 ? $" error={Interop.Libc.ErrorText(-cut.Error).Replace(' ', '-')}" : "");

    /// <summary>
    /// Drops <paramref name="devicePath"/>'s page cache (BLKFLSBUF: dirty pages are written, or fail while the power is
    /// off, and clean ones are dropped); null, or the error. Never call it from the process serving the device (the FUSE
    /// frontend's server must not do I/O on its own loop device).
    /// </summary>
    public static string? DropPageCache(string devicePath)
    {
        int fd = Interop.Libc.Open(devicePath, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC, 0);
        if (fd < 0)
            return $"{devicePath}: {Interop.Libc.ErrorText(Interop.Libc.Errno)}";
        try
        {
            return Interop.Libc.Ioctl(fd, BLKFLSBUF, null) == 0 ? null : $"{devicePath}: BLKFLSBUF: {Interop.Libc.ErrorText(Interop.Libc.Errno)}";
        }
        finally
        {
            Interop.Libc.Close(fd);
        }
    }
}
