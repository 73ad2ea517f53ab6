namespace FastLog.LogFormat;

/// <summary>Everything an index records about the log it was built from, besides the entries.</summary>
internal sealed record LogIndexHeader(
    string LogPath,
    LogFileIdentity Identity,
    int SectorSize,
    ulong NrEntries,
    bool Scanned,
    string? ScanStopReason,
    LogFormatException? Damage)
{
    /// <summary>nr_entries as a count to compare entry numbers with: values from 2^63 on, which no log can hold, clamp.</summary>
    public long DeclaredEntryCount => (long)Math.Min(NrEntries, long.MaxValue);
}
