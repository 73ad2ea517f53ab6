namespace FastLog.Workload;

/// <summary>
/// The stress oracle (Josef Bacik's check, made exact): after a crash and remount, every file in the directory
/// holds at least what its last acknowledged promise said. Judged per <see cref="StressContent.UnitSize"/> unit:
/// a unit must hold the version the promise covers (the last write to it numbered up to the promise's covered
/// write; none means zeros), or the data of any later write to it (issued after the promise, acknowledged or
/// not); a unit past the promised size may also be absent or zeros. A file with no promise in force may hold
/// zeros, nothing, or any write's data for its place, but never garbage or another place's data.
/// Memory: one version number per unit of each promised file, O(files x units); the journal is streamed.
/// </summary>
public static class OracleVerifier
{
    /// <summary>At most this many mismatch ranges are listed (the rest are counted).</summary>
    public const int MaxReported = 1000;
    /// <summary>At most this many later versions are listed per mismatch.</summary>
    public const int MaxLaterVersions = 16;

    /// <summary>
    /// Checks the stress files in <paramref name="mountDir"/> against the journal at <paramref name="journalPath"/>.
    /// </summary>
    /// <param name="upToPromise">Judge with the promises numbered up to K in force (the crash-state explorer maps a
    /// log mark <c>stress:K</c> to K with <see cref="StressMarks.TryParse"/>); null: every promise in the journal.</param>
    /// <exception cref="StressJournalException">The journal is not one, or its header is damaged.</exception>
    /// <exception cref="ArgumentException"><paramref name="upToPromise"/> is negative or beyond the journal's promises.</exception>
    public static OracleReport Verify(string mountDir, string journalPath, long? upToPromise = null) =>
        Verify(mountDir, StressJournal.Open(journalPath), upToPromise);

    /// <summary>The same with a journal opened once (<see cref="StressJournal.Open"/> validates it in a pass of its
    /// own), for a caller judging many crash states of one run.</summary>
    public static OracleReport Verify(string mountDir, StressJournal journal, long? upToPromise = null)
    {
        string journalPath = journal.Path;
        long inForce = upToPromise ?? journal.Promises;
        if (inForce < 0 || inForce > journal.Promises)
            throw new ArgumentException($"--up-to-promise {inForce}: the journal {journalPath} has promises 1 to {journal.Promises}" +
                                        (journal.Damage is { } d ? $" ({d})" : ""));
        if (journal.Header is not { } header)
            return new OracleReport(mountDir, journalPath, null, 0, 0, 0, journal.Damage, null, [], [], 0, 0);

        var promises = PromisesInForce(journal, header, inForce);
        var files = new List<OracleFileReport>(header.Files);
        var mismatches = new Collector(header.Files);
        for (int file = 0; file < header.Files; file++)
        {
            FilePromise promise = promises[file];
            string path = Path.Combine(mountDir, StressJournalHeader.FileName(file));
            (long actual, long bad) = CheckFile(path, file, promise, header, journal.Writes, mismatches);
            files.Add(new OracleFileReport(StressJournalHeader.FileName(file), promise.Promise, promise.CoveredWrite, promise.PromisedSize, actual, bad, promise.Skipped));
        }
        IReadOnlyList<OracleMismatch> listed = mismatches.Finish(journal, promises);
        return new OracleReport(mountDir, journalPath, header, journal.Writes, journal.Promises, inForce, journal.Damage,
            Describe(journal.Ending, header), files, listed, mismatches.Omitted, mismatches.Bytes);
    }

    /// <summary>The promise in force for each file and the version each of its units must hold.</summary>
    private sealed class FilePromise
    {
        public long Promise;
        public long CoveredWrite;
        public long PromisedSize;
        public bool Skipped;
        /// <summary>Per unit, the write the promise requires (0: none); null when the file has no promise.</summary>
        public long[]? Versions;
    }

    private static FilePromise[] PromisesInForce(StressJournal journal, StressJournalHeader header, long inForce)
    {
        var promises = new FilePromise[header.Files];
        for (int i = 0; i < promises.Length; i++)
            promises[i] = new FilePromise();
        long lastCovered = 0;
        foreach (StressJournalRecord record in journal.Records())
        {
            if (record.Kind != StressRecordKind.Promise)
                continue;
            if (record.Sequence > inForce)
                break;
            promises[record.File].Promise = record.Sequence;
            promises[record.File].CoveredWrite = record.CoveredWrite;
            promises[record.File].Skipped = record.Skipped;
            lastCovered = Math.Max(lastCovered, record.CoveredWrite);
        }
        int units = (int)(header.FileSize / StressContent.UnitSize);
        foreach (FilePromise promise in promises)
            if (promise.Promise > 0)
                promise.Versions = new long[units];
        foreach (StressJournalRecord record in journal.Records())
        {
            if (record.Kind != StressRecordKind.Write)
                continue;
            if (record.Sequence > lastCovered)
                break;
            FilePromise promise = promises[record.File];
            if (record.Sequence > promise.CoveredWrite)
                continue;
            int first = (int)(record.Offset / StressContent.UnitSize);
            promise.Versions.AsSpan(first, record.Length / StressContent.UnitSize).Fill(record.Sequence);
            promise.PromisedSize = Math.Max(promise.PromisedSize, record.Offset + record.Length);
        }
        return promises;
    }

    /// <summary>Judges every unit of one file; returns its size (-1: missing) and the bytes that broke the promise.</summary>
    private static (long Size, long Bad) CheckFile(string path, int file, FilePromise promise, StressJournalHeader header,
        long journalWrites, Collector mismatches)
    {
        string name = StressJournalHeader.FileName(file);
        const int unit = StressContent.UnitSize;
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            long bad = 0;
            for (long offset = 0; offset < promise.PromisedSize; offset += unit)
                bad += mismatches.Add(Judge(name, file, offset, promise, header, journalWrites, FoundKind.Missing, default));
            return (-1, bad);
        }
        using (stream)
        {
            long size = stream.Length;
            long badBytes = 0;
            var buffer = new byte[1 << 20];
            long end = Math.Max(Math.Min(size, header.FileSize), promise.PromisedSize);
            for (long chunk = 0; chunk < end; chunk += buffer.Length)
            {
                int want = (int)Math.Min(buffer.Length, end - chunk);
                int got = stream.ReadAtLeast(buffer.AsSpan(0, want), want, throwOnEndOfStream: false);
                for (int at = 0; at < want; at += unit)
                {
                    long offset = chunk + at;
                    int present = Math.Clamp(got - at, 0, unit);
                    FoundKind? kind = present == 0 ? FoundKind.Missing : present < unit ? FoundKind.Short : null;
                    UnitContent content = kind is null ? StressContent.Classify(buffer.AsSpan(at, unit), header.Seed) : default;
                    badBytes += mismatches.Add(Judge(name, file, offset, promise, header, journalWrites, kind, content));
                }
            }
            if (size > header.FileSize)
            {
                badBytes += size - header.FileSize;
                mismatches.Add(new Candidate(name, header.FileSize, size - header.FileSize, 0, true, FoundKind.Extra, 0, null, 0));
            }
            return (size, badBytes);
        }
    }

    /// <summary>A unit that broke its promise, before coalescing; null when it holds an allowed version.</summary>
    private readonly record struct Candidate(string File, long Offset, long Length, long PromisedVersion, bool Past,
        FoundKind Found, long FoundVersion, string? FoundFile, long FoundOffset);

    private static Candidate? Judge(string name, int file, long offset, FilePromise promise, StressJournalHeader header,
        long journalWrites, FoundKind? missing, UnitContent content)
    {
        long required = promise.Versions?[offset / StressContent.UnitSize] ?? 0;
        bool past = offset >= promise.PromisedSize;
        Candidate Broken(FoundKind found, long version = 0, string? foundFile = null, long foundOffset = 0) =>
            new(name, offset, StressContent.UnitSize, required, past, found, version, foundFile, foundOffset);

        if (missing is { } kind)
            return past ? null : Broken(kind);
        switch (content.Kind)
        {
            case UnitKind.Zeros:
                return required == 0 || past ? null : Broken(FoundKind.Zeros);
            case UnitKind.Version when content.File == file && content.Offset == offset:
                if (content.Version > journalWrites)
                    return Broken(FoundKind.NotInJournal, content.Version);
                return content.Version == required || content.Version > promise.CoveredWrite ? null : Broken(FoundKind.WrongVersion, content.Version);
            case UnitKind.Version:
                string other = (uint)content.File < (uint)header.Files ? StressJournalHeader.FileName(content.File) : $"file {content.File}";
                return Broken(FoundKind.Misplaced, content.Version, other, content.Offset);
            case UnitKind.Torn:
                return Broken(FoundKind.Torn, content.Version);
            default:
                return Broken(FoundKind.Garbage);
        }
    }

    /// <summary>Coalesces adjacent broken units that share what was allowed and what was found, up to
    /// <see cref="MaxReported"/> ranges, then lists the later writes that were allowed for each.</summary>
    private sealed class Collector(int files)
    {
        private readonly List<Candidate>[] _perFile = Enumerable.Range(0, files).Select(_ => new List<Candidate>()).ToArray();
        private readonly Dictionary<string, int> _fileIndex = Enumerable.Range(0, files).ToDictionary(StressJournalHeader.FileName);
        private int _listed;

        public long Omitted { get; private set; }
        public long Bytes { get; private set; }

        /// <returns>The bytes counted as broken.</returns>
        public long Add(Candidate? candidate)
        {
            if (candidate is not { } c)
                return 0;
            Bytes += c.Length;
            List<Candidate> list = _perFile[_fileIndex[c.File]];
            if (list.Count > 0 && list[^1] is var last && last.Offset + last.Length == c.Offset && Continues(last, c))
            {
                list[^1] = last with { Length = last.Length + c.Length };
                return c.Length;
            }
            if (_listed >= MaxReported)
            {
                Omitted++;
                return c.Length;
            }
            _listed++;
            list.Add(c);
            return c.Length;
        }

        private static bool Continues(Candidate last, Candidate next) =>
            last.PromisedVersion == next.PromisedVersion && last.Past == next.Past && last.Found == next.Found
            && last.FoundVersion == next.FoundVersion && last.FoundFile == next.FoundFile
            && (next.Found != FoundKind.Misplaced || last.FoundOffset + last.Length == next.FoundOffset);

        /// <summary>One more pass over the journal: which writes after each file's promise touch each range.</summary>
        public IReadOnlyList<OracleMismatch> Finish(StressJournal journal, FilePromise[] promises)
        {
            var later = _perFile.Select(list => list.Select(_ => new List<long>()).ToArray()).ToArray();
            var omitted = _perFile.Select(list => new long[list.Count]).ToArray();
            if (_listed > 0)
            {
                foreach (StressJournalRecord record in journal.Records())
                {
                    if (record.Kind != StressRecordKind.Write || record.Sequence <= promises[record.File].CoveredWrite)
                        continue;
                    List<Candidate> list = _perFile[record.File];
                    int i = FirstEndingAfter(list, record.Offset);
                    for (; i < list.Count && list[i].Offset < record.Offset + record.Length; i++)
                    {
                        if (later[record.File][i].Count < MaxLaterVersions)
                            later[record.File][i].Add(record.Sequence);
                        else
                            omitted[record.File][i]++;
                    }
                }
            }
            var result = new List<OracleMismatch>(_listed);
            for (int file = 0; file < _perFile.Length; file++)
                for (int i = 0; i < _perFile[file].Count; i++)
                {
                    Candidate c = _perFile[file][i];
                    result.Add(new OracleMismatch(c.File, c.Offset, c.Length, c.PromisedVersion, c.Past, later[file][i], omitted[file][i],
                        c.Found, c.FoundVersion, c.FoundFile, c.FoundOffset));
                }
            return result;
        }

        /// <summary>The first range (sorted, disjoint) that ends after <paramref name="offset"/>.</summary>
        private static int FirstEndingAfter(List<Candidate> list, long offset)
        {
            int low = 0, high = list.Count;
            while (low < high)
            {
                int mid = (low + high) / 2;
                if (list[mid].Offset + list[mid].Length <= offset)
                    low = mid + 1;
                else
                    high = mid;
            }
            return low;
        }
    }

    private static string? Describe(StressJournalRecord? ending, StressJournalHeader header)
    {
        if (ending is not { } e)
            return null;
        if (e.Kind == StressRecordKind.End)
            return $"stress ended after {e.Sequence} writes and {e.Offset} promises";
        string file = (uint)e.File < (uint)header.Files ? StressJournalHeader.FileName(e.File) : "the directory";
        string what = e.Op == StressOp.Write ? $"write {e.Sequence} to {file} at offset {e.Offset}" : $"{e.Op.ToString().ToLowerInvariant()} of {file} (promise {e.Sequence})";
        return $"stress stopped: {what} failed: {Interop.Libc.ErrorText(e.Errno)}";
    }
}
