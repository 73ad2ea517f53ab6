namespace FastLog.LogFormat;

/// <summary>
/// Decides whether a saved index may stand in for a fresh pass over its log. A saved file is outside FastLog's
/// control (stale with size and mtime kept, forged, or damaged), so it is believed only if a fresh
/// <see cref="LogIndex.Build(LogReader)"/> would have produced exactly it: every indexed header is re-read and must
/// pass <see cref="LogEntryValidator"/> and match its entry (offset, sector, nr_sectors, flags, epoch, mark name),
/// the entries must chain back to back from the first sector, and the entry after the last must end the pass the
/// same way (the same damage, the same scan stop, or nr_entries reached).
/// </summary>
/// <remarks>
/// Cost: one header-sector read per entry, no payload reads; a fresh pass reads the whole log.
/// </remarks>
internal static class LogIndexVerifier
{
    /// <summary>True if <paramref name="saved"/> is what indexing <paramref name="reader"/>'s log would give now.
    /// Leaves the reader positioned at entry 0.</summary>
    public static bool Matches(LogIndex saved, LogReader reader)
    {
        try
        {
            return MatchesUnguarded(saved, reader);
        }
        finally
        {
            reader.SeekTo(0, reader.SectorSize);
        }
    }

    private static bool MatchesUnguarded(LogIndex saved, LogReader reader)
    {
        int sectorSize = reader.SectorSize;
        if (saved.SectorSize != sectorSize || saved.NrEntries != reader.SuperBlock.EntryCount)
            return false;
        if (!reader.Options.ScanPastEntryCount && saved.Count > reader.DeclaredEntryCount)
            return false;
        var sector = new byte[sectorSize];
        long offset = sectorSize;
        int epoch = 0;
        int marks = 0;
        for (int i = 0; i < saved.Count; i++)
        {
            ref readonly LogIndexEntry expected = ref saved[i];
            if (expected.HeaderOffset != offset || expected.Epoch != epoch || offset > reader.Length - sectorSize
                || !reader.TryReadAt(offset, sector))
                return false;
            LogEntryHeader header = LogEntryHeader.ReadFrom(sector);
            if (header.Sector != expected.Sector || header.NrSectors != expected.NrSectors || header.Flags != expected.Flags
                || LogEntryValidator.Problem(sector, header, offset, reader.Length) is not null)
                return false;
            string? name = saved.MarkNameAt(i);
            if (header.IsMark != (name is not null) || (name is not null && name != LogEntryHeader.ReadMarkName(sector, header)))
                return false;
            marks += header.IsMark ? 1 : 0;
            if (header.IsFlush)
                epoch++;
            offset = expected.NextOffset(sectorSize);
        }
        if (marks != saved.MarkNames.Count)
            return false;
        return EndsTheSameWay(saved, reader, offset);
    }

    /// <summary>Reads the entry after the last indexed one, as a fresh pass would, and compares how it ends.</summary>
    private static bool EndsTheSameWay(LogIndex saved, LogReader reader, long offset)
    {
        reader.SeekTo(saved.Count, offset);
        try
        {
            if (reader.TryReadNext(out _))
                return false; // the log has a valid entry the index stops before
            return saved.Damage is null && saved.ScanStopReason == reader.ScanStopReason;
        }
        catch (LogFormatException fresh)
        {
            return saved.Damage is { } damage && damage.Entry == fresh.Entry && damage.ByteOffset == fresh.ByteOffset
                   && damage.Problem == fresh.Problem;
        }
    }
}
