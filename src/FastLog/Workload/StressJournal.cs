namespace FastLog.Workload;

/// <summary>
/// A stress journal opened for reading. Reads back to its last complete, consistent record and says why it
/// stopped there (<see cref="Damage"/>): a journal cut at any byte (stress killed mid-append, a full disk) or
/// damaged in the middle is never an error, only shorter. A file cut inside its header holds no promise
/// (<see cref="Header"/> is null); only a file that is not a journal at all, or whose header is damaged,
/// throws <see cref="StressJournalException"/>.
/// Records are streamed from disk on each <see cref="Records"/> pass, so a journal of any length reads in
/// constant memory.
/// </summary>
public sealed class StressJournal
{
    private const int ChunkRecords = 2048;

    private StressJournal(string path) => Path = path;

    public string Path { get; }

    /// <summary>The run's parameters; null when the file ends inside its header (nothing was promised).</summary>
    public StressJournalHeader? Header { get; private set; }

    /// <summary>Complete, consistent records, in order.</summary>
    public long RecordCount { get; private set; }
    public long Writes { get; private set; }
    public long Promises { get; private set; }

    /// <summary>Why reading stopped before the end of the file (a torn last record, a checksum mismatch, an
    /// inconsistent record), naming the byte offset; null when the file ends exactly after a record.</summary>
    public string? Damage { get; private set; }

    /// <summary>The record that ended the run (Stop or End), if the journal has one.</summary>
    public StressJournalRecord? Ending { get; private set; }

    /// <summary>Opens and validates <paramref name="path"/> (one pass over it).</summary>
    public static StressJournal Open(string path)
    {
        var journal = new StressJournal(path);
        try
        {
            journal.Scan();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StressJournalException($"{path}: {e.Message}");
        }
        return journal;
    }

    /// <summary>The complete records, read from disk afresh.</summary>
    public IEnumerable<StressJournalRecord> Records()
    {
        if (Header is null)
            yield break;
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        stream.Position = StressJournalHeader.Size;
        var buffer = new byte[ChunkRecords * StressJournalRecord.Size];
        long left = RecordCount;
        while (left > 0)
        {
            int want = (int)Math.Min(ChunkRecords, left) * StressJournalRecord.Size;
            stream.ReadExactly(buffer, 0, want);
            for (int at = 0; at < want; at += StressJournalRecord.Size)
            {
                StressJournalRecord.TryRead(buffer.AsSpan(at, StressJournalRecord.Size), out StressJournalRecord record);
                yield return record;
            }
            left -= want / StressJournalRecord.Size;
        }
    }

    private void Scan()
    {
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        var headerBytes = new byte[StressJournalHeader.Size];
        int got = stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false);
        if (!StressJournalHeader.LooksLikeJournal(headerBytes.AsSpan(0, got)))
            throw new StressJournalException($"{Path}: not a stress journal (no FLSTRJNL magic)");
        if (got < StressJournalHeader.Size)
        {
            Damage = $"the file ends inside the journal header ({got} of {StressJournalHeader.Size} bytes): the run promised nothing";
            return;
        }
        StressJournalHeader header = StressJournalHeader.Read(headerBytes, Path);
        Header = header;
        var buffer = new byte[ChunkRecords * StressJournalRecord.Size];
        long position = StressJournalHeader.Size;
        while (Damage is null)
        {
            int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            int at = 0;
            for (; at + StressJournalRecord.Size <= read && Damage is null; at += StressJournalRecord.Size)
                Damage = Accept(buffer.AsSpan(at, StressJournalRecord.Size), header, position + at);
            if (Damage is not null)
                break;
            if (read < buffer.Length)
            {
                if (at < read)
                    Damage = $"an incomplete record at byte {position + at} ({read - at} of {StressJournalRecord.Size} bytes): the journal ends with record {RecordCount}";
                break;
            }
            position += read;
        }
    }

    /// <summary>Takes one record into the counts, or returns why it cannot be trusted (and reading stops).</summary>
    private string? Accept(ReadOnlySpan<byte> bytes, StressJournalHeader header, long byteOffset)
    {
        string where = $"record {RecordCount + 1} at byte {byteOffset}";
        if (!StressJournalRecord.TryRead(bytes, out StressJournalRecord record))
            return $"{where}: checksum mismatch (torn or damaged); the journal is read up to the record before it";
        if (Ending is not null)
            return $"{where}: a record after the run's {Ending.Value.Kind} record";
        string? problem = record.Kind switch
        {
            StressRecordKind.Write when record.Sequence != Writes + 1 => $"write {record.Sequence} where {Writes + 1} was due",
            StressRecordKind.Write when (uint)record.File >= header.Files => $"write to file {record.File} of {header.Files}",
            StressRecordKind.Write when record.Length <= 0 || record.Length % StressContent.UnitSize != 0
                                        || record.Offset < 0 || record.Offset % StressContent.UnitSize != 0
                                        || record.Offset + record.Length > header.FileSize
                => $"write {record.Sequence} of {record.Length} bytes at {record.Offset} is outside the files' {header.FileSize} bytes or not unit-aligned",
            StressRecordKind.Promise when record.Sequence != Promises + 1 => $"promise {record.Sequence} where {Promises + 1} was due",
            StressRecordKind.Promise when (uint)record.File >= header.Files => $"promise on file {record.File} of {header.Files}",
            StressRecordKind.Promise when record.CoveredWrite > Writes || record.CoveredWrite < 0 => $"promise {record.Sequence} covers write {record.CoveredWrite}, past the {Writes} written",
            _ => null,
        };
        if (problem is not null)
            return $"{where}: {problem}; the journal is read up to the record before it";
        RecordCount++;
        if (record.Kind == StressRecordKind.Write)
            Writes++;
        else if (record.Kind == StressRecordKind.Promise)
            Promises++;
        else
            Ending = record;
        return null;
    }
}
