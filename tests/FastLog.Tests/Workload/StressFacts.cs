using FastLog.Workload;

namespace FastLog.Tests.Workload;

/// <summary>What a journal says, worked out the slow, obvious way, to check the oracle against.</summary>
internal static class StressFacts
{
    public static StressJournalRecord[] Records(string journalPath) => StressJournal.Open(journalPath).Records().ToArray();

    public static StressJournalRecord Promise(StressJournalRecord[] records, long k) =>
        records.Single(r => r.Kind == StressRecordKind.Promise && r.Sequence == k);

    /// <summary>The last write to <paramref name="file"/> covering <paramref name="offset"/> numbered up to <paramref name="upTo"/>; 0 if none.</summary>
    public static long VersionAt(StressJournalRecord[] records, int file, long offset, long upTo) =>
        records.Where(r => r.Kind == StressRecordKind.Write && r.File == file && r.Sequence <= upTo && Covers(r, offset))
            .Select(r => r.Sequence).DefaultIfEmpty(0).Max();

    public static long[] WritesAfter(StressJournalRecord[] records, int file, long offset, long after) =>
        records.Where(r => r.Kind == StressRecordKind.Write && r.File == file && r.Sequence > after && Covers(r, offset))
            .Select(r => r.Sequence).ToArray();

    public static bool Covers(StressJournalRecord write, long offset) =>
        offset >= write.Offset && offset < write.Offset + write.Length;
}
