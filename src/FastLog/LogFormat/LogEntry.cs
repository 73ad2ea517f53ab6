namespace FastLog.LogFormat;

/// <summary>
/// One validated entry as the reader found it. Offsets are bytes from the start of the log file.
/// Invariant: <c>PayloadOffset == HeaderOffset + sectorsize</c> and the payload lies inside the file.
/// </summary>
/// <param name="Index">Entry number, 0-based, as replay-log counts.</param>
/// <param name="HeaderOffset">Byte offset of the header sector.</param>
/// <param name="Header">The decoded 32-byte header.</param>
/// <param name="MarkName">The mark's name for MARK entries, otherwise null.</param>
/// <param name="PayloadOffset">Byte offset of the payload (right after the header sector).</param>
/// <param name="PayloadLength">Payload bytes in the log: nr_sectors*sectorsize for writes, 0 for discards.</param>
public readonly record struct LogEntry(
    long Index, long HeaderOffset, LogEntryHeader Header, string? MarkName, long PayloadOffset, long PayloadLength)
{
    /// <summary>Where the next entry's header starts.</summary>
    public long NextOffset => PayloadOffset + PayloadLength;
}
