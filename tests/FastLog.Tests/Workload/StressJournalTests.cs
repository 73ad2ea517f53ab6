using FastLog.Tests.Support;
using FastLog.Workload;

namespace FastLog.Tests.Workload;

/// <summary>The journal reads back to its last complete record wherever it was cut or damaged.</summary>
public class StressJournalTests
{
    private static readonly StressJournalHeader Header = new(42, 3, 1 << 20, 4096, 65536, 0.5, false, 0);

    /// <summary>A journal of 40 records as stress writes them: writes, promises, an end.</summary>
    private static (string Path, StressJournalRecord[] Records) WriteJournal(TempDirectory dir)
    {
        string path = dir.File("journal");
        var records = new List<StressJournalRecord>();
        long writes = 0, promises = 0;
        for (int i = 0; records.Count < 39; i++)
        {
            records.Add(StressJournalRecord.Write(i % 3, ++writes, 4096L * i, 8192));
            if (i % 4 == 3)
                records.Add(StressJournalRecord.Promise(i % 3, ++promises, writes, StressOp.Fsync, skipped: i % 8 == 7));
        }
        records.Add(StressJournalRecord.Ended(writes, promises));
        using (var writer = StressJournalWriter.Create(path, Header))
            foreach (StressJournalRecord record in records)
                writer.Append(record);
        return (path, records.ToArray());
    }

    [Fact]
    public void A_journal_cut_at_any_byte_reads_back_to_its_last_complete_record()
    {
        using var dir = new TempDirectory();
        (string path, StressJournalRecord[] records) = WriteJournal(dir);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(StressJournalHeader.Size + records.Length * StressJournalRecord.Size, bytes.Length);
        string cutPath = dir.File("cut");
        for (int cut = 0; cut <= bytes.Length; cut++)
        {
            File.WriteAllBytes(cutPath, bytes[..cut]);
            StressJournal journal = StressJournal.Open(cutPath);
            int complete = Math.Max(0, (cut - StressJournalHeader.Size) / StressJournalRecord.Size);
            Assert.Equal(complete, journal.RecordCount);
            Assert.Equal(records[..complete], journal.Records().ToArray());
            Assert.Equal(records[..complete].Count(r => r.Kind == StressRecordKind.Promise), journal.Promises);
            Assert.Equal(cut >= StressJournalHeader.Size ? Header : null, journal.Header);
            bool onBoundary = cut >= StressJournalHeader.Size && (cut - StressJournalHeader.Size) % StressJournalRecord.Size == 0;
            Assert.True(onBoundary == (journal.Damage is null), $"cut at {cut}: damage '{journal.Damage}'");
        }
    }

    [Fact]
    public void A_damaged_record_ends_the_journal_before_it_and_says_where()
    {
        using var dir = new TempDirectory();
        (string path, StressJournalRecord[] records) = WriteJournal(dir);
        byte[] original = File.ReadAllBytes(path);
        foreach (int damaged in new[] { 0, 7, 20, records.Length - 1 })
        {
            byte[] bytes = (byte[])original.Clone();
            int at = StressJournalHeader.Size + damaged * StressJournalRecord.Size + 9;
            bytes[at] ^= 0x40;
            File.WriteAllBytes(path, bytes);
            StressJournal journal = StressJournal.Open(path);
            Assert.Equal(damaged, journal.RecordCount);
            Assert.Contains($"record {damaged + 1} at byte {at - 9}", journal.Damage);
        }
    }

    [Fact]
    public void A_file_that_is_not_a_journal_or_has_a_damaged_header_is_refused_by_name()
    {
        using var dir = new TempDirectory();
        string other = dir.File("passwd");
        File.WriteAllText(other, "root:x:0:0:root:/root:/bin/bash\n");
        Assert.Contains($"{other}: not a stress journal", Assert.Throws<StressJournalException>(() => StressJournal.Open(other)).Message);
        (string path, _) = WriteJournal(dir);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[20] ^= 1; // the seed
        File.WriteAllBytes(path, bytes);
        Assert.Contains("header's checksum", Assert.Throws<StressJournalException>(() => StressJournal.Open(path)).Message);
    }

    [Fact]
    public void Mark_names_map_to_promise_numbers_and_back()
    {
        Assert.Equal("stress:17", StressMarks.Name(17));
        Assert.True(StressMarks.TryParse("stress:17", out long k));
        Assert.Equal(17, k);
        Assert.True(StressMarks.TryParse(StressMarks.Name(0), out k));
        Assert.Equal(0, k);
        foreach (string other in new[] { "stress:", "stress:-1", "stress:1x", "stress: 1", "mkfs", "Stress:1" })
            Assert.False(StressMarks.TryParse(other, out _), other);
    }
}
