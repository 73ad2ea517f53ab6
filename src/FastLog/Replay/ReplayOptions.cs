namespace FastLog.Replay;

/// <summary>
/// Everything replay-log accepts (xfstests src/log-writes/replay-log.c), with its meaning. Stop conditions are
/// inclusive: the matching entry is replayed (or printed by <see cref="Find"/>), then the run stops.
/// </summary>
public sealed record ReplayOptions
{
    /// <summary>The dm-log-writes log (file or block device).</summary>
    public required string LogPath { get; init; }
    /// <summary>File or block device to replay onto; null prints log information instead.</summary>
    public string? ReplayPath { get; init; }
    /// <summary>Stop after this many entries counted from the start point; 0 means no limit.</summary>
    public ulong Limit { get; init; }
    /// <summary>Start at this entry (ignored when <see cref="StartMark"/> is set).</summary>
    public ulong StartEntry { get; init; }
    /// <summary>Start right after the first mark with this name.</summary>
    public string? StartMark { get; init; }
    /// <summary>Stop at the first mark with exactly this name; when set, FUA/FLUSH stops do not fire (replay-log's rule).</summary>
    public string? EndMark { get; init; }
    public bool NextFua { get; init; }
    public bool NextFlush { get; init; }
    /// <summary>Print <c>entry@log-sector-after-it</c> of the first entry meeting the stop conditions; replay nothing.</summary>
    public bool Find { get; init; }
    /// <summary>Print nr_entries and exit.</summary>
    public bool PrintEntryCount { get; init; }
    /// <summary>Ignore DISCARD entries.</summary>
    public bool NoDiscard { get; init; }
    /// <summary>Shell command run (via /bin/sh -c, after an fsync) when <see cref="Check"/> is due; must come with it.</summary>
    public string? FsckCommand { get; init; }
    public ReplayCheck? Check { get; init; }
    /// <summary>Replay only writes that overlap [StartSector, EndSector] (log sectors). Discards ignore the range.</summary>
    public ulong StartSector { get; init; }
    public ulong EndSector { get; init; } = ulong.MaxValue;
    /// <summary>1 prints replayed entries, 2 also skipped entries and seeks.</summary>
    public int Verbosity { get; init; }
    /// <summary>Trust entries past a stale nr_entries up to the first implausible header.</summary>
    public bool Scan { get; init; }
    /// <summary>Write large aligned runs with O_DIRECT when the target allows it (falls back to buffered).</summary>
    public bool Direct { get; init; } = true;
}
