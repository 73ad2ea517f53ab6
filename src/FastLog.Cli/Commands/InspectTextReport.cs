using FastLog.LogFormat;

namespace FastLog.Cli.Commands;

/// <summary>
/// The human-readable <c>inspect</c> report: one column per log so two logs compare row by row. Text from the log
/// (mark names) and paths are printed through <see cref="TerminalText.Escape"/>: one report line per line.
/// </summary>
internal static class InspectTextReport
{
    public static void Write(TextWriter output, IReadOnlyList<LogIndex> indexes, bool listEntries)
    {
        LogStatistics[] stats = indexes.Select(LogStatistics.Of).ToArray();
        var rows = new List<(string Label, string[] Values)>
        {
            ("log", indexes.Select(i => TerminalText.Escape(i.LogPath)).ToArray()),
            ("sector size", stats.Select(s => s.SectorSize.ToString()).ToArray()),
            ("nr_entries (super block)", stats.Select(s => s.NrEntries.ToString()).ToArray()),
            ("entries indexed", stats.Select(s => s.Entries + (s.RecoveredEntries > 0 ? $" ({s.RecoveredEntries} recovered by scan)" : "")).ToArray()),
            ("writes", stats.Select(s => s.Writes.ToString()).ToArray()),
            ("  with FUA", stats.Select(s => s.Fuas.ToString()).ToArray()),
            ("  with METADATA", stats.Select(s => s.MetadataWrites.ToString()).ToArray()),
            ("flushes", stats.Select(s => s.Flushes.ToString()).ToArray()),
            ("discards", stats.Select(s => s.Discards.ToString()).ToArray()),
            ("marks", stats.Select(s => s.Marks.ToString()).ToArray()),
            ("bytes written", stats.Select(s => Bytes((ulong)s.BytesWritten)).ToArray()),
            ("bytes discarded", stats.Select(s => Bytes(s.BytesDiscarded)).ToArray()),
            ("sequential writes", stats.Select(s => $"{s.SequentialShare:P1}").ToArray()),
            ("flush epochs", stats.Select(s => s.Epochs.ToString()).ToArray()),
            ("longest epoch (writes)", stats.Select(s => $"{s.LongestEpochWrites} (epoch {s.LongestEpoch})").ToArray()),
        };
        AddHistogram(rows, "writes per epoch", stats.Select(s => s.WritesPerEpoch).ToArray(), v => v.ToString());
        AddHistogram(rows, "write size", stats.Select(s => s.WriteSizes).ToArray(), v => Bytes(v));
        int labelWidth = rows.Max(r => r.Label.Length) + 2;
        int[] widths = Enumerable.Range(0, indexes.Count).Select(c => rows.Max(r => r.Values[c].Length) + 2).ToArray();
        foreach ((string label, string[] values) in rows)
        {
            output.Write(label.PadRight(labelWidth));
            for (int c = 0; c < values.Length; c++)
                output.Write(c == values.Length - 1 ? values[c] : values[c].PadRight(widths[c]));
            output.WriteLine();
        }
        for (int i = 0; i < indexes.Count; i++)
        {
            LogIndex index = indexes[i];
            LogStatistics s = stats[i];
            output.WriteLine();
            output.WriteLine($"marks in {TerminalText.Escape(index.LogPath)}:{(s.MarkList.Count == 0 ? " none" : "")}");
            foreach ((int entry, string name) in s.MarkList)
                output.WriteLine($"  {entry,10}  {TerminalText.Escape(name)}");
            if (index.Damage is { } damage)
                output.WriteLine($"DAMAGED: {TerminalText.Escape(damage.Message)}");
            if (listEntries)
                WriteEntries(output, index);
        }
    }

    private static void WriteEntries(TextWriter output, LogIndex index)
    {
        output.WriteLine();
        output.WriteLine($"{"entry",10} {"log offset",14} {"sector",14} {"bytes",12}  flags  mark");
        int sectorSize = index.SectorSize;
        for (int i = 0; i < index.Count; i++)
        {
            ref readonly LogIndexEntry e = ref index[i];
            output.WriteLine($"{i,10} {e.HeaderOffset,14} {e.Sector,14} {(long)e.NrSectors * sectorSize,12}  {LogEntryFlagsText.Describe(e.Flags)}  {TerminalText.Escape(index.MarkNameAt(i))}");
        }
    }

    private static void AddHistogram(List<(string, string[])> rows, string title, Log2Histogram[] histograms, Func<ulong, string> format)
    {
        var buckets = histograms.SelectMany(h => h.Buckets().Select(b => (b.Low, b.High))).Distinct().Order().ToList();
        rows.Add((title, histograms.Select(_ => "").ToArray()));
        foreach ((ulong low, ulong high) in buckets)
        {
            // Buckets are [2^(k-1), 2^k): print the exclusive bound so "64 KiB..<128 KiB" reads exactly.
            string label = low == high ? $"  {format(low)}" : high == ulong.MaxValue ? $"  {format(low)}.." : $"  {format(low)}..<{format(high + 1)}";
            rows.Add((label, histograms.Select(h => h.Buckets().FirstOrDefault(b => b.Low == low).Count.ToString()).ToArray()));
        }
    }

    private static string Bytes(UInt128 bytes) => bytes switch
    {
        _ when bytes >= 1UL << 30 && (bytes % (1UL << 30) == 0 || bytes >= 10UL << 30) => $"{(double)bytes / (1L << 30):0.##} GiB",
        _ when bytes >= 1UL << 20 => $"{(double)bytes / (1L << 20):0.##} MiB",
        _ when bytes >= 1UL << 10 => $"{(double)bytes / (1L << 10):0.##} KiB",
        _ => $"{bytes} B",
    };
}
