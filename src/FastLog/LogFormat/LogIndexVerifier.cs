using FastLog.Interop;

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
/// Cost: one header-sector read per entry (several in flight), no payload reads; a fresh pass reads the whole
/// log. On a cold cache with small entries the two cost about the same; with large payloads verifying is far cheaper.
/// </remarks>
internal static class LogIndexVerifier
{
    /// <summary>Header reads in flight at once: enough to hide a disk's latency, few enough for a small machine.</summary>
    private const int ParallelReads = 8;

    /// <summary>Average bytes per entry from which header reads skip read-ahead.</summary>
    private const long SparseStride = 64 << 10;

    /// <summary>True if <paramref name="saved"/> is what indexing <paramref name="reader"/>'s log would give now.
    /// Leaves the reader positioned at entry 0.</summary>
    public static bool Matches(LogIndex saved, LogReader reader)
    {
        // Headers far apart (large payloads): read-ahead would fetch the payloads in between, which is what the
        // saved index exists to avoid. Headers close together: read-ahead brings in the next ones.
        bool sparse = saved.Count > 0 && reader.Length / saved.Count >= SparseStride;
        reader.Advise(sparse ? Libc.POSIX_FADV_RANDOM : Libc.POSIX_FADV_SEQUENTIAL);
        try
        {
            return MatchesUnguarded(saved, reader);
        }
        finally
        {
            reader.Advise(Libc.POSIX_FADV_SEQUENTIAL);
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
        // First what the index says of itself: entries back to back from sector 1, epochs counted from its
        // FLUSH flags, a name for every mark and only for marks. Then every header, read from the log.
        long offset = sectorSize;
        int epoch = 0;
        int marks = 0;
        for (int i = 0; i < saved.Count; i++)
        {
            ref readonly LogIndexEntry expected = ref saved[i];
            if (expected.HeaderOffset != offset || expected.Epoch != epoch || offset > reader.Length - sectorSize
                || expected.IsMark != (saved.MarkNameAt(i) is not null))
                return false;
            marks += expected.IsMark ? 1 : 0;
            if ((expected.Flags & LogEntryFlags.Flush) != 0)
                epoch++;
            offset = expected.NextOffset(sectorSize);
            if (offset < 0)
                return false;
        }
        if (marks != saved.MarkNames.Count || !HeadersMatch(saved, reader))
            return false;
        return EndsTheSameWay(saved, reader, offset);
    }

    /// <summary>
    /// Re-reads every indexed header sector and checks it against its entry and <see cref="LogEntryValidator"/>.
    /// The reads are independent and latency-bound (one sector each, scattered), so several run at once.
    /// </summary>
    private static bool HeadersMatch(LogIndex saved, LogReader reader)
    {
        int sectorSize = reader.SectorSize;
        int mismatches = 0;
        if (saved.Count == 0)
            return true;
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, saved.Count, 4096),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelReads },
            range =>
            {
                var sector = new byte[sectorSize];
                for (int i = range.Item1; i < range.Item2 && Volatile.Read(ref mismatches) == 0; i++)
                {
                    if (!HeaderMatches(saved, i, reader, sector))
                        Interlocked.Increment(ref mismatches);
                }
            });
        return mismatches == 0;
    }

    private static bool HeaderMatches(LogIndex saved, int i, LogReader reader, byte[] sector)
    {
        ref readonly LogIndexEntry expected = ref saved[i];
        if (!reader.TryReadAt(expected.HeaderOffset, sector))
            return false;
        LogEntryHeader header = LogEntryHeader.ReadFrom(sector);
        if (header.Sector != expected.Sector || header.NrSectors != expected.NrSectors || header.Flags != expected.Flags
            || LogEntryValidator.Problem(sector, header, expected.HeaderOffset, reader.Length) is not null)
            return false;
        return saved.MarkNameAt(i) is not { } name || name == LogEntryHeader.ReadMarkName(sector, header);
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
