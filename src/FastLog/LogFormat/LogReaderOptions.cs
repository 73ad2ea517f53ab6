namespace FastLog.LogFormat;

/// <summary>How a <see cref="LogReader"/> reads.</summary>
public sealed record LogReaderOptions
{
    /// <summary>
    /// Keep reading past the super block's nr_entries until the first implausible header. The kernel
    /// rewrites nr_entries only after a FUA or MARK entry and at teardown, so a host crash leaves it behind
    /// the entries actually logged. Opt-in: a reused log device may hold plausible entries of an older run.
    /// </summary>
    public bool ScanPastEntryCount { get; init; }

    /// <summary>Bytes per sequential read. Large reads keep replay at disk speed; at least two log sectors.</summary>
    public int BufferSize { get; init; } = 8 << 20;

    /// <summary>
    /// Read the next window in the background while the current one is consumed (replay). Off for one-off
    /// header walks where it would only double the memory.
    /// </summary>
    public bool ReadAhead { get; init; }

    public static LogReaderOptions Default { get; } = new();
}
