namespace FastLog.LogFormat;

/// <summary>Everything an index records about the log it was built from, besides the entries.</summary>
internal sealed record LogIndexHeader(
    string LogPath,
    LogFileIdentity Identity,
    int SectorSize,
    long DeclaredEntryCount,
    bool Scanned,
    string? ScanStopReason,
    LogFormatException? Damage);
