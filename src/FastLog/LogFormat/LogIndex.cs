namespace FastLog.LogFormat;

/// <summary>
/// Where every entry of a log is, built in one sequential pass: entry → header offset, sector, length,
/// flags and flush epoch (32 bytes per entry, <see cref="LogIndexEntry"/>), marks by name, FLUSH and FUA
/// positions (4 bytes more per FLUSH or FUA entry, plus the mark names). Seeking to an entry is O(1); finding a mark or the next FLUSH/FUA from a position is
/// O(log n). Saved beside a regular-file log as <c>LOG.flidx</c> (see <see cref="LogIndexFile"/>).
/// </summary>
/// <remarks>
/// Damage does not make the index useless: entries up to the first malformed one are indexed and the
/// problem is kept in <see cref="Damage"/>, so a replay fails only when it reaches the damage, as replay-log does.
/// A FLUSH entry voided by a <see cref="FailedFlushMark"/> is not a durability point here: it is not in
/// <see cref="Flushes"/>, does not close an epoch, and <see cref="CompletedFlags"/> shows it without FLUSH.
/// </remarks>
public sealed class LogIndex
{
    private readonly LogIndexEntry[] _entries;
    private readonly Dictionary<int, string> _markNames;
    private readonly Dictionary<string, int[]> _marksByName;
    private readonly int[] _flushes;
    private readonly int[] _failedFlushes;
    private readonly int[] _fuas;

    internal LogIndex(LogIndexHeader header, LogIndexEntry[] entries, Dictionary<int, string> markNames)
    {
        Header = header;
        _entries = entries;
        _markNames = markNames;
        _marksByName = markNames.GroupBy(m => m.Value, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(m => m.Key).Order().ToArray(), StringComparer.Ordinal);
        _failedFlushes = FailedFlushEntries(entries, markNames);
        _flushes = Positions(entries, LogEntryFlags.Flush).Where(e => Array.BinarySearch(_failedFlushes, e) < 0).ToArray();
        _fuas = Positions(entries, LogEntryFlags.Fua);
    }

    internal LogIndexHeader Header { get; }
    public string LogPath => Header.LogPath;
    public int SectorSize => Header.SectorSize;
    /// <summary>nr_entries from the super block when the index was built.</summary>
    public long DeclaredEntryCount => Header.DeclaredEntryCount;
    /// <summary>nr_entries exactly as the super block says, for display (it may be 2^63 or more).</summary>
    public ulong NrEntries => Header.NrEntries;
    /// <summary>Whether entries past nr_entries were scanned for.</summary>
    public bool Scanned => Header.Scanned;
    /// <summary>Valid entries indexed: up to nr_entries (or past it with a scan), fewer if damaged.</summary>
    public int Count => _entries.Length;
    /// <summary>Entries found past nr_entries by a scan.</summary>
    public long RecoveredEntries => Math.Max(0, Count - DeclaredEntryCount);
    /// <summary>Why a scan stopped, if one ran.</summary>
    public string? ScanStopReason => Header.ScanStopReason;
    /// <summary>The first malformed entry, if any: entries from <c>Damage.Entry</c> on are not indexed.</summary>
    public LogFormatException? Damage => Header.Damage;
    /// <summary>Whether this index came from a saved .flidx file rather than a fresh pass.</summary>
    public bool LoadedFromFile { get; internal set; }

    public ReadOnlySpan<LogIndexEntry> Entries => _entries;
    public ref readonly LogIndexEntry this[int entry] => ref _entries[entry];
    public IReadOnlyDictionary<int, string> MarkNames => _markNames;
    /// <summary>Entry numbers of completed FLUSH entries, ascending (failed ones are in <see cref="FailedFlushes"/>).</summary>
    public ReadOnlySpan<int> Flushes => _flushes;
    /// <summary>Entry numbers of FLUSH entries voided by a <see cref="FailedFlushMark"/>, ascending.</summary>
    public ReadOnlySpan<int> FailedFlushes => _failedFlushes;

    /// <summary>The entry's flags, without FLUSH if that flush failed: what the entry means for durability.</summary>
    public LogEntryFlags CompletedFlags(int entry) =>
        _failedFlushes.Length > 0 && Array.BinarySearch(_failedFlushes, entry) >= 0
            ? _entries[entry].Flags & ~LogEntryFlags.Flush
            : _entries[entry].Flags;
    /// <summary>Entry numbers of FUA entries, ascending.</summary>
    public ReadOnlySpan<int> Fuas => _fuas;
    /// <summary>Number of flush epochs: one more than the FLUSH entries, or 0 for an empty log.</summary>
    public int EpochCount => Count == 0 ? 0 : _entries[^1].Epoch + 1;

    public string? MarkNameAt(int entry) => _markNames.GetValueOrDefault(entry);

    /// <summary>First entry ≥ <paramref name="fromEntry"/> that is a mark named exactly <paramref name="name"/>, or -1.</summary>
    public int FindMark(string name, int fromEntry = 0) =>
        _marksByName.TryGetValue(name, out int[]? entries) ? FirstAtOrAfter(entries, fromEntry) : -1;

    /// <summary>First entry ≥ <paramref name="fromEntry"/> with any of FLUSH/FUA in <paramref name="flags"/>, or -1.</summary>
    public int FindFlag(LogEntryFlags flags, int fromEntry = 0)
    {
        int flush = (flags & LogEntryFlags.Flush) != 0 ? FirstAtOrAfter(_flushes, fromEntry) : -1;
        int fua = (flags & LogEntryFlags.Fua) != 0 ? FirstAtOrAfter(_fuas, fromEntry) : -1;
        return flush < 0 ? fua : fua < 0 ? flush : Math.Min(flush, fua);
    }

    /// <summary>Byte offset of entry <paramref name="entry"/>'s header; <c>Count</c> gives the end of the indexed log.</summary>
    public long HeaderOffset(int entry) =>
        entry < Count ? _entries[entry].HeaderOffset : Count == 0 ? SectorSize : _entries[^1].NextOffset(SectorSize);

    /// <summary>Throws the recorded damage if <paramref name="entry"/> lies at or past it.</summary>
    public void ThrowIfDamaged(long entry)
    {
        if (Damage is { } damage && entry >= damage.Entry)
            throw damage;
    }

    /// <summary>Indexes <paramref name="logPath"/> in one sequential pass.</summary>
    /// <exception cref="LogFormatException">The super block is bad. Damaged entries are recorded, not thrown.</exception>
    public static LogIndex Build(string logPath, bool scan = false)
    {
        using var reader = LogReader.Open(logPath, new LogReaderOptions { ScanPastEntryCount = scan });
        return Build(reader);
    }

    /// <summary>Indexes from the reader's current position, which must be entry 0.</summary>
    public static LogIndex Build(LogReader reader)
    {
        if (reader.NextEntryIndex != 0)
            throw new InvalidOperationException("an index is built from entry 0");
        var entries = new List<LogIndexEntry>((int)Math.Min(reader.DeclaredEntryCount, 1 << 20));
        var marks = new Dictionary<int, string>();
        int epoch = 0;
        LogFormatException? damage = null;
        try
        {
            while (reader.TryReadNext(out LogEntry entry))
            {
                if (entry.Index >= int.MaxValue)
                    throw new LogFormatException(reader.Path, entry.Index, entry.HeaderOffset, "more than 2^31 entries cannot be indexed");
                LogEntryHeader h = entry.Header;
                entries.Add(new LogIndexEntry(entry.HeaderOffset, h.Sector, h.NrSectors, h.Flags, epoch));
                if (entry.MarkName is { } name)
                    marks[(int)entry.Index] = name;
                if (h.IsFlush)
                    epoch++;
            }
        }
        catch (LogFormatException e)
        {
            damage = e;
        }
        if (FailedFlushEntries(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entries), marks) is { Length: > 0 } failed)
            RenumberEpochs(entries, failed);
        var identity = LogFileIdentity.Of(reader.Path);
        var header = new LogIndexHeader(reader.Path, identity, reader.SectorSize, reader.SuperBlock.EntryCount,
            reader.Options.ScanPastEntryCount, reader.ScanStopReason, damage);
        return new LogIndex(header, entries.ToArray(), marks);
    }

    /// <summary>The FLUSH entries named by <see cref="FailedFlushMark"/>s that follow them, ascending.</summary>
    private static int[] FailedFlushEntries(ReadOnlySpan<LogIndexEntry> entries, Dictionary<int, string> marks)
    {
        List<int>? failed = null;
        foreach ((int markEntry, string name) in marks)
        {
            if (!FailedFlushMark.TryParse(name, out long offset))
                continue;
            int lo = 0, hi = Math.Min(markEntry, entries.Length) - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (entries[mid].HeaderOffset < offset) lo = mid + 1;
                else hi = mid - 1;
            }
            if (lo < markEntry && lo < entries.Length && entries[lo].HeaderOffset == offset && (entries[lo].Flags & LogEntryFlags.Flush) != 0)
                (failed ??= []).Add(lo);
        }
        if (failed is null)
            return [];
        failed.Sort();
        return failed.ToArray();
    }

    /// <summary>Epochs again, with the failed FLUSH entries closing none.</summary>
    private static void RenumberEpochs(List<LogIndexEntry> entries, int[] failedFlushes)
    {
        int epoch = 0;
        for (int i = 0; i < entries.Count; i++)
        {
            LogIndexEntry e = entries[i];
            entries[i] = new LogIndexEntry(e.HeaderOffset, e.Sector, e.NrSectors, e.Flags, epoch);
            if ((e.Flags & LogEntryFlags.Flush) != 0 && Array.BinarySearch(failedFlushes, i) < 0)
                epoch++;
        }
    }

    private static int[] Positions(LogIndexEntry[] entries, LogEntryFlags flag)
    {
        var positions = new List<int>();
        for (int i = 0; i < entries.Length; i++)
            if ((entries[i].Flags & flag) != 0)
                positions.Add(i);
        return positions.ToArray();
    }

    private static int FirstAtOrAfter(int[] sorted, int from)
    {
        int i = Array.BinarySearch(sorted, from);
        if (i < 0)
            i = ~i;
        return i < sorted.Length ? sorted[i] : -1;
    }
}
