namespace FastLog.LogFormat;

/// <summary>
/// Summary of a log computed from its <see cref="LogIndex"/> alone (no payload reads). Kinds are not exclusive
/// flags: a FUA write counts as a write and as FUA; an empty FLUSH counts only as a flush.
/// </summary>
public sealed class LogStatistics
{
    public int SectorSize { get; private init; }
    public long DeclaredEntryCount { get; private init; }
    /// <summary>nr_entries exactly as the super block says (2^63 or more shows as it is).</summary>
    public ulong NrEntries { get; private init; }
    public long Entries { get; private set; }
    /// <summary>Entries carrying payload (neither discard nor mark, nr_sectors &gt; 0).</summary>
    public long Writes { get; private set; }
    public long Discards { get; private set; }
    /// <summary>Completed FLUSH entries (a failed one, voided by a flush-failed mark, is in <see cref="FailedFlushes"/>).</summary>
    public long Flushes { get; private set; }
    public long FailedFlushes => _failedFlushes;
    private long _failedFlushes;
    public long Fuas { get; private set; }
    public long Marks { get; private set; }
    public long MetadataWrites { get; private set; }
    public long BytesWritten { get; private set; }
    /// <summary>Sum of DISCARD ranges: each fits in 2^63 bytes, their sum need not (a device discarded many times over).</summary>
    public UInt128 BytesDiscarded { get; private set; }
    /// <summary>Writes that start exactly where the previous write ended.</summary>
    public long SequentialWrites { get; private set; }
    public double SequentialShare => Writes <= 1 ? 0 : (double)SequentialWrites / (Writes - 1);
    public int Epochs { get; private set; }
    /// <summary>Most writes in one flush epoch, and which epoch that is.</summary>
    public long LongestEpochWrites { get; private set; }
    public int LongestEpoch { get; private set; }
    public Log2Histogram WritesPerEpoch { get; } = new();
    public Log2Histogram WriteSizes { get; } = new();
    public IReadOnlyList<(int Entry, string Name)> MarkList { get; private set; } = [];
    public long RecoveredEntries { get; private init; }
    public LogFormatException? Damage { get; private init; }

    public static LogStatistics Of(LogIndex index)
    {
        var stats = new LogStatistics
        {
            SectorSize = index.SectorSize, DeclaredEntryCount = index.DeclaredEntryCount, NrEntries = index.NrEntries,
            RecoveredEntries = index.RecoveredEntries, Damage = index.Damage,
        };
        stats.Collect(index);
        stats._failedFlushes = index.FailedFlushes.Length;
        return stats;
    }

    private void Collect(LogIndex index)
    {
        int sectorSize = index.SectorSize;
        ulong previousEnd = ulong.MaxValue;
        long epochWrites = 0;
        int epoch = 0;
        int number = 0;
        foreach (ref readonly LogIndexEntry e in index.Entries)
        {
            if (e.Epoch != epoch)
            {
                CloseEpoch(epoch, epochWrites);
                epoch = e.Epoch;
                epochWrites = 0;
            }
            Entries++;
            LogEntryFlags f = index.CompletedFlags(number++);
            if ((f & LogEntryFlags.Flush) != 0) Flushes++;
            if ((f & LogEntryFlags.Fua) != 0) Fuas++;
            if ((f & LogEntryFlags.Mark) != 0) Marks++;
            if ((f & LogEntryFlags.Discard) != 0)
            {
                Discards++;
                BytesDiscarded += (UInt128)e.NrSectors * (uint)sectorSize;
                continue;
            }
            if ((f & LogEntryFlags.Mark) != 0 || e.NrSectors == 0)
                continue;
            Writes++;
            epochWrites++;
            if ((f & LogEntryFlags.Metadata) != 0) MetadataWrites++;
            long bytes = (long)e.NrSectors * sectorSize;
            BytesWritten += bytes;
            WriteSizes.Add((ulong)bytes);
            if (e.Sector == previousEnd) SequentialWrites++;
            previousEnd = e.Sector + e.NrSectors;
        }
        if (Entries > 0)
            CloseEpoch(epoch, epochWrites);
        MarkList = index.MarkNames.OrderBy(m => m.Key).Select(m => (m.Key, m.Value)).ToList();
    }

    private void CloseEpoch(int epoch, long writes)
    {
        Epochs++;
        WritesPerEpoch.Add((ulong)writes);
        if (writes > LongestEpochWrites)
        {
            LongestEpochWrites = writes;
            LongestEpoch = epoch;
        }
    }
}
