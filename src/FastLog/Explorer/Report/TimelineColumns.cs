namespace FastLog.Explorer.Report;

/// <summary>One column of the timeline: a run of consecutive log entries (one entry when the log is short).</summary>
internal sealed class TimelineColumn
{
    public long FirstEntry, LastEntry;
    public int Writes, FuaWrites, Flushes, Discards, Marks;
    public int FirstEpoch = int.MaxValue, LastEpoch = int.MinValue;
    /// <summary>The first mark's name in this column (the others are counted in <see cref="Marks"/>).</summary>
    public string? FirstMark;
    public int CrashPoints, FailingCrashPoints;
    public long States, FailedStates;
    /// <summary>Bytes written (plain and FUA) and discarded by the column's entries.</summary>
    public long BytesWritten, BytesDiscarded;
    /// <summary>The first entry's offset and kind (what a one-entry column shows).</summary>
    public long FirstOffset;
    public TimelineKind FirstKind;

    public int Entries => Writes + FuaWrites + Flushes + Discards + Marks;
    public int DataOps => Writes + FuaWrites + Discards;
    public bool SingleEpoch => FirstEpoch == LastEpoch;
}

/// <summary>A crash point at which at least one state failed, and the column it falls in.</summary>
internal sealed record FailingCrashPoint(long Entry, int Column, long States, long Failed, string? FirstFailureId);

/// <summary>
/// The log's entries bucketed into at most <see cref="MaxColumns"/> columns of equal entry counts (give or take
/// one), so that the timeline's size depends on the column count, not on the log's length. Invariant: the columns
/// cover the timeline in order, without gaps or overlaps, and every crash point lands in the column holding its
/// entry (crash points past the last entry land in the last column, before the first in the first).
/// </summary>
internal sealed class TimelineColumns
{
    public const int MaxColumns = 2000;

    private TimelineColumns(TimelineColumn[] columns, long entriesPerColumn)
    {
        Columns = columns;
        EntriesPerColumn = entriesPerColumn;
    }

    public IReadOnlyList<TimelineColumn> Columns { get; }
    /// <summary>The most entries one column holds (1 when each entry has a column of its own).</summary>
    public long EntriesPerColumn { get; }
    public IReadOnlyList<FailingCrashPoint> FailingPoints { get; private set; } = [];
    public int MaxEntriesInColumn { get; private set; }

    /// <exception cref="ArgumentException">The timeline is not in ascending entry order (one entry shown as
    /// several kinds, a FLUSH with data say, may repeat its number).</exception>
    public static TimelineColumns Build(ReportData data, IReadOnlySet<string> renderedFailures, int maxColumns = MaxColumns)
    {
        IReadOnlyList<TimelineEntry> timeline = data.Timeline;
        int n = timeline.Count;
        int count = Math.Min(n, maxColumns);
        var columns = new TimelineColumn[count];
        long previous = long.MinValue;
        for (int c = 0; c < count; c++)
        {
            int start = (int)((long)c * n / count), end = (int)((long)(c + 1) * n / count);
            var column = columns[c] = new TimelineColumn
            {
                FirstEntry = timeline[start].Entry, LastEntry = timeline[end - 1].Entry,
                FirstOffset = timeline[start].Offset, FirstKind = timeline[start].Kind,
            };
            for (int i = start; i < end; i++)
            {
                TimelineEntry entry = timeline[i];
                if (entry.Entry < previous)
                    throw new ArgumentException($"timeline entry {entry.Entry} comes after entry {previous}: the timeline must be in ascending entry order", nameof(data));
                previous = entry.Entry;
                Count(column, entry);
            }
        }
        var result = new TimelineColumns(columns, count == 0 ? 0 : (n + count - 1) / count);
        result.MaxEntriesInColumn = columns.Length == 0 ? 0 : columns.Max(c => c.Entries);
        result.PlaceCrashPoints(data, renderedFailures);
        return result;
    }

    private static void Count(TimelineColumn column, TimelineEntry entry)
    {
        switch (entry.Kind)
        {
            case TimelineKind.Write: column.Writes++; column.BytesWritten += entry.Length; break;
            case TimelineKind.FuaWrite: column.FuaWrites++; column.BytesWritten += entry.Length; break;
            case TimelineKind.Flush: column.Flushes++; break;
            case TimelineKind.Discard: column.Discards++; column.BytesDiscarded += entry.Length; break;
            case TimelineKind.Mark:
                if (column.Marks++ == 0) column.FirstMark = entry.MarkName;
                break;
        }
        column.FirstEpoch = Math.Min(column.FirstEpoch, entry.Epoch);
        column.LastEpoch = Math.Max(column.LastEpoch, entry.Epoch);
    }

    /// <summary>The column holding <paramref name="entry"/>: the last whose first entry is at or before it.</summary>
    public int ColumnOf(long entry)
    {
        int lo = 0, hi = Columns.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (Columns[mid].FirstEntry <= entry) lo = mid; else hi = mid - 1;
        }
        return lo;
    }

    private void PlaceCrashPoints(ReportData data, IReadOnlySet<string> renderedFailures)
    {
        if (Columns.Count == 0) return;
        var results = new Dictionary<long, CrashPointResult>();
        foreach (CrashPointResult point in data.CrashPoints)
        {
            results[point.Entry] = point;
            TimelineColumn column = Columns[ColumnOf(point.Entry)];
            column.CrashPoints++;
            column.States += point.States;
            column.FailedStates += point.Failed;
        }

        // A failing crash point is one with a failed state, by its count or by a failure reported there.
        var reported = new SortedDictionary<long, (long Count, string? FirstRendered)>();
        foreach (CrashPointResult point in data.CrashPoints)
            if (point.Failed > 0) reported.TryAdd(point.Entry, (0, null));
        foreach (ReportFailure failure in data.Failures)
        {
            reported.TryGetValue(failure.CrashEntry, out var seen);
            string? rendered = seen.FirstRendered ?? (renderedFailures.Contains(failure.StateId) ? failure.StateId : null);
            reported[failure.CrashEntry] = (seen.Count + 1, rendered);
        }

        var failing = new List<FailingCrashPoint>(reported.Count);
        foreach ((long entry, (long count, string? firstRendered)) in reported)
        {
            int column = ColumnOf(entry);
            long failed = Math.Max(count, results.TryGetValue(entry, out CrashPointResult? result) ? result.Failed : 0);
            failing.Add(new FailingCrashPoint(entry, column, Math.Max(result?.States ?? 0, failed), failed, firstRendered));
            Columns[column].FailingCrashPoints++;
        }
        FailingPoints = failing;
    }
}
