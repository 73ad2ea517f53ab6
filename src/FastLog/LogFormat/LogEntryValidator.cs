namespace FastLog.LogFormat;

/// <summary>
/// The plausibility rules every entry header must pass. They are replay-log's two checks (an all-zero
/// header; a non-mark whose byte 32 is not zero) plus the ones that keep a reader from walking off into
/// garbage: only known flags, a payload inside the file, a mark name that leaves room for its terminator, a
/// device range whose byte offsets fit in a signed 64-bit number.
/// The same rules decide where a <c>--scan</c> past a stale nr_entries stops.
/// </summary>
internal static class LogEntryValidator
{
    /// <summary>
    /// Returns null when the header sector (the whole sectorsize bytes, decoded as <paramref name="header"/>, at
    /// byte <paramref name="headerOffset"/> of a log of <paramref name="fileLength"/> bytes) is plausible,
    /// else a description of the problem.
    /// </summary>
    public static string? Problem(ReadOnlySpan<byte> headerSector, LogEntryHeader header, long headerOffset, long fileLength)
    {
        int sectorSize = headerSector.Length;
        if (header.Flags == LogEntryFlags.None && header.NrSectors == 0)
            return "all-zero header (flags 0, nr_sectors 0): replay-log rejects it as the end of a torn or unwritten log";
        LogEntryFlags unknown = header.Flags & ~LogEntryFlags.Known;
        if (unknown != 0)
            return $"unknown flags 0x{(ulong)unknown:x} in flags 0x{(ulong)header.Flags:x} (known: FLUSH|FUA|DISCARD|MARK|METADATA)";
        if (header.Flags != LogEntryFlags.Mark && headerSector[LogEntryHeader.EncodedSize] != 0)
            return $"non-mark entry (flags 0x{(ulong)header.Flags:x}) has nonzero byte 32; header padding must be zero";
        if (header.IsMark && header.DataLength > (ulong)LogEntryHeader.MaxMarkNameLength(sectorSize))
            return $"mark name of {header.DataLength} bytes leaves no room for its terminator (at most {LogEntryHeader.MaxMarkNameLength(sectorSize)} with {sectorSize}-byte sectors)";
        // Every byte position a replay computes from this entry, (sector + nr_sectors) * sectorsize, must fit in a
        // signed 64-bit offset; beyond that a multiplication wraps and the data lands somewhere else (byte 0).
        ulong maxSectors = (ulong)(long.MaxValue / sectorSize);
        if (header.NrSectors > maxSectors || header.Sector > maxSectors - header.NrSectors)
            return $"absurd nr_sectors {header.NrSectors} at sector {header.Sector}: with {sectorSize}-byte sectors the range passes byte 2^63 (sector + nr_sectors may be at most {maxSectors})";
        long payloadEnd = headerOffset + sectorSize + (long)header.PayloadSectors * sectorSize;
        if (payloadEnd < 0 || payloadEnd > fileLength)
            return $"entry runs past end of file: its {header.PayloadSectors} payload sectors end at byte {(ulong)(headerOffset + sectorSize) + header.PayloadSectors * (ulong)sectorSize}, the file has {fileLength} bytes";
        return null;
    }
}
