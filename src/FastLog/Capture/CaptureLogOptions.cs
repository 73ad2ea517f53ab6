namespace FastLog.Capture;

/// <summary>How a <see cref="CaptureLog"/> trades memory and latency.</summary>
/// <remarks>Checked as a whole when the log is created (<see cref="Validate"/>), as PipeOptions checks its
/// thresholds: a relation that would stall the pipeline is refused, not discovered as a hang.</remarks>
public sealed record CaptureLogOptions
{
    /// <summary>Staging memory; when the writer is this far behind, producers stall. Power of two.</summary>
    public long RingBytes { get; init; } = 64 << 20;

    /// <summary>What a FLUSH or FUA write waits for in the log before it completes.</summary>
    public LogDurability FlushWaitsFor { get; init; } = LogDurability.Durable;

    /// <summary>Pending bytes at which producers wake the writer instead of letting it sleep out its interval. At most
    /// half the ring: producers that can never have this much pending would wait out every nap for space.</summary>
    public long WakeBytes { get; init; } = 1 << 20;

    /// <summary>How long the writer sleeps while bytes wait to be written and nobody waits for them.</summary>
    public TimeSpan WriterInterval { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>How often the super block's nr_entries is refreshed while running (always at close); also how long
    /// the writer sleeps when everything is written, unless woken.</summary>
    public TimeSpan SuperBlockInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option (or relation) that cannot work.</summary>
    public void Validate()
    {
        if (!CaptureRing.IsValidCapacity(RingBytes))
            throw new ArgumentOutOfRangeException(nameof(RingBytes), RingBytes, $"the ring is {CaptureRing.CapacityRule}");
        if (!Enum.IsDefined(FlushWaitsFor))
            throw new ArgumentOutOfRangeException(nameof(FlushWaitsFor), FlushWaitsFor, "not a LogDurability");
        if (WakeBytes <= 0 || WakeBytes > RingBytes / 2)
            throw new ArgumentOutOfRangeException(nameof(WakeBytes), WakeBytes,
                $"producers wake the writer at 1 byte to half the ring ({RingBytes / 2}) pending; more can never be pending");
        // A wait takes at most int.MaxValue ms; a longer one would throw on the writer thread.
        TimeSpan longest = TimeSpan.FromMilliseconds(int.MaxValue);
        if (WriterInterval <= TimeSpan.Zero || WriterInterval > longest)
            throw new ArgumentOutOfRangeException(nameof(WriterInterval), WriterInterval, $"the writer's interval must be positive and at most {longest}");
        if (SuperBlockInterval <= TimeSpan.Zero || SuperBlockInterval > longest)
            throw new ArgumentOutOfRangeException(nameof(SuperBlockInterval), SuperBlockInterval, $"the super block interval must be positive and at most {longest}");
    }
}
