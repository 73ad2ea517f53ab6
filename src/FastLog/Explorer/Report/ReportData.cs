namespace FastLog.Explorer.Report;

public enum TimelineKind { Write, FuaWrite, Flush, Discard, Mark }

/// One log entry as the timeline shows it. Offset/Length in bytes (0 for FLUSH and marks).
public sealed record TimelineEntry(long Entry, TimelineKind Kind, long Offset, long Length, int Epoch, string? MarkName);

/// How many states were checked at one crash point (the entry after which power was cut) and how many failed.
public sealed record CrashPointResult(long Entry, int States, int Failed);

public sealed record ReportFailure(
    string StateId,              // e.g. "e41-S5" (printable, deterministic)
    long CrashEntry,
    string? LastMark,            // last mark at or before the crash point
    string Strategy,             // prefix | subsets | torn | versions | corrupt
    IReadOnlyList<long> Persisted,   // volatile write entries that were persisted in this state
    IReadOnlyList<long> Dropped,     // volatile write entries that were dropped
    IReadOnlyList<string> Details,   // "entry 40 torn: units 0,1 of 8 persisted", "entry 12 reads back as zeros", ...
    string Checker,              // "fs", "oracle", or the command
    string CheckerOutput,        // may be long (truncate for display, keep it all in a <details>)
    string? MinimizedStateId,
    IReadOnlyList<long>? MinimizedPersisted,
    IReadOnlyList<long>? MinimizedDropped,
    string MaterializeCommand,   // "fastlog materialize --log L --state ID -o IMAGE"
    // Added for the report: the command for the minimized state; null = MaterializeCommand with its
    // "--state ID" naming MinimizedStateId instead.
    string? MinimizedMaterializeCommand = null);

public sealed record ReportData(
    string LogPath, int SectorSize, long DeviceSize, long EntryCount, int EpochCount,
    string CommandLine, DateTimeOffset Started, TimeSpan Elapsed,
    long StatesPlanned, long StatesChecked, long StatesMerged, long StatesFailed,
    IReadOnlyList<TimelineEntry> Timeline,
    IReadOnlyList<CrashPointResult> CrashPoints,
    IReadOnlyList<ReportFailure> Failures);
