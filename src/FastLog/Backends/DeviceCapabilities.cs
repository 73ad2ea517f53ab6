namespace FastLog.Backends;

/// <summary>
/// What a backend is as a block device, declared by the backend and shown to the kernel by every frontend (ublk's
/// SET_PARAMS, loop's block size and the FUSE file's answers), as kublk's targets set their own parameters: the stack
/// says it once, at the layer that knows.
/// </summary>
/// <param name="LogicalBlockSize">512 or 4096: the smallest request the device takes, and its atomic unit.</param>
/// <param name="PhysicalBlockSize">A power of two, at least <paramref name="LogicalBlockSize"/>: the size file systems
/// align to. Advisory.</param>
/// <param name="VolatileCache">Writes may sit in a cache that a power cut loses: the kernel sends FLUSH only to a
/// device that says so, so a device that must see every durability point (the logged one) says so.</param>
/// <param name="Fua">FUA writes are sent as such; without it the kernel turns each into a write and a FLUSH.</param>
/// <param name="Discard">DISCARD is taken (a device without it never sees one).</param>
/// <param name="WriteZeroes">WRITE_ZEROES is taken (without it the kernel writes zero pages).</param>
public sealed record DeviceCapabilities(
    int LogicalBlockSize = 512,
    int PhysicalBlockSize = 4096,
    bool VolatileCache = true,
    bool Fua = true,
    bool Discard = true,
    bool WriteZeroes = true)
{
    /// <summary>Why these do not describe a block device, or null.</summary>
    public string? Problem() =>
        LogicalBlockSize is not (512 or 4096) ? $"logical block size {LogicalBlockSize} is not 512 or 4096"
        : PhysicalBlockSize < LogicalBlockSize || (PhysicalBlockSize & (PhysicalBlockSize - 1)) != 0
            ? $"physical block size {PhysicalBlockSize} is not a power of two of at least the logical {LogicalBlockSize}"
        : Fua && !VolatileCache ? "FUA without a volatile cache means nothing to the kernel"
        : null;

    /// <summary>Checks <see cref="Problem"/> for a frontend about to show these to the kernel.</summary>
    /// <exception cref="ArgumentException">They do not describe a block device.</exception>
    public void Validate()
    {
        if (Problem() is { } problem)
            throw new ArgumentException($"the backend's capabilities: {problem}");
    }
}
