using System.Text;
using System.Text.Json;
using FastLog.Explorer;
using FastLog.Explorer.Report;
using FastLog.LogFormat;

namespace FastLog.Cli.Commands;

/// <summary>The end of an explore run: a summary on stdout (text or JSON), and summary.json in the report directory.</summary>
internal static class ExploreReportWriter
{
    public const string SummaryFile = "summary.json";
    private const int FailuresShown = 20;

    public static void Write(ExploreRunInfo run, ExploreSummary summary, LogIndex index, string? reportDirectory, bool json)
    {
        if (reportDirectory is not null)
        {
            Directory.CreateDirectory(reportDirectory);
            string path = Path.Combine(reportDirectory, SummaryFile), temporary = path + ".tmp";
            using (var stream = File.Create(temporary))
                WriteJson(stream, run, summary);
            File.Move(temporary, path, overwrite: true);
            HtmlReport.Write(ReportOf(run, summary, index), reportDirectory);
        }
        using Stream stdout = Console.OpenStandardOutput();
        if (json)
        {
            WriteJson(stdout, run, summary);
            stdout.WriteByte((byte)'\n');
            return;
        }
        using var text = new StreamWriter(stdout, new UTF8Encoding(false));
        WriteText(text, run, summary, reportDirectory);
    }

    /// <summary>What the HTML report shows: the whole log as a timeline, the crash points, each failure that was checked.</summary>
    private static ReportData ReportOf(ExploreRunInfo run, ExploreSummary s, LogIndex index)
    {
        var timeline = new TimelineEntry[index.Count];
        for (int i = 0; i < index.Count; i++)
        {
            ref readonly LogIndexEntry e = ref index[i];
            TimelineKind kind = e.IsMark ? TimelineKind.Mark : (e.Flags & LogEntryFlags.Flush) != 0 ? TimelineKind.Flush
                : e.IsDiscard ? TimelineKind.Discard : (e.Flags & LogEntryFlags.Fua) != 0 ? TimelineKind.FuaWrite : TimelineKind.Write;
            timeline[i] = new TimelineEntry(i, kind, (long)e.Sector * index.SectorSize, (long)e.NrSectors * index.SectorSize, e.Epoch, index.MarkNameAt(i));
        }
        var failures = s.Failures.Where(f => f.MergedInto is null).Select(f => new ReportFailure(
            f.Id, f.CrashEntry, f.LastMark, f.Strategy, f.Persisted.Select(x => (long)x).ToArray(), f.Dropped.Select(x => (long)x).ToArray(),
            f.Details, run.Checker, f.Output, f.Minimized?.Id, f.Minimized?.PersistedEntries.Select(x => (long)x).ToArray(),
            f.Minimized?.DroppedEntries?.Select(x => (long)x).ToArray(), MaterializeCommand(run, f.Id),
            f.Minimized is { } m ? MaterializeCommand(run, m.Id) : null)).ToList();
        return new ReportData(run.LogPath, index.SectorSize, run.DeviceSize, index.Count, index.EpochCount, run.CommandLine, run.Started,
            s.Elapsed, s.Planned, s.Checked, s.Merged, s.Failed, timeline,
            s.Points.Select(p => new CrashPointResult(p.Entry, p.States, p.Failed)).ToList(), failures);
    }

    public static void WriteJson(Stream stream, ExploreRunInfo run, ExploreSummary s)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        run.Write(w);
        w.WriteNumber("planned", s.Planned);
        w.WriteNumber("done", s.Done);
        w.WriteNumber("checked", s.Checked);
        w.WriteNumber("merged", s.Merged);
        w.WriteNumber("failed", s.Failed);
        w.WriteNumber("skipped_other_shards", s.SkippedOtherShards);
        w.WriteNumber("resumed", s.Resumed);
        w.WriteBoolean("interrupted", s.Interrupted);
        w.WriteNumber("crash_points", s.CrashPoints);
        w.WriteNumber("elapsed_seconds", Math.Round(s.Elapsed.TotalSeconds, 3));
        w.WriteNumber("states_per_second", Math.Round(Rate(s), 1));
        w.WriteStartArray("failures");
        foreach (StateResult f in s.Failures) f.WriteJson(w);
        w.WriteEndArray();
        w.WriteStartArray("strategies");
        foreach (StrategyTally t in s.Strategies)
        {
            w.WriteStartObject();
            w.WriteString("strategy", t.Strategy);
            w.WriteNumber("states", t.States);
            w.WriteNumber("failed", t.Failed);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("points");
        foreach (CrashPointTally p in s.Points)
        {
            w.WriteStartObject();
            w.WriteNumber("entry", p.Entry);
            w.WriteNumber("states", p.States);
            w.WriteNumber("failed", p.Failed);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static double Rate(ExploreSummary s) => s.Elapsed.TotalSeconds > 0 ? (s.Done - s.Resumed) / s.Elapsed.TotalSeconds : 0;

    private static void WriteText(TextWriter o, ExploreRunInfo run, ExploreSummary s, string? reportDirectory)
    {
        o.WriteLine($"explored {run.LogPath}: {s.CrashPoints} crash points, {s.Planned} states planned" +
                    (run.ShardCount > 1 ? $" (shard {run.ShardIndex}/{run.ShardCount}: {s.SkippedOtherShards} belong to other shards)" : ""));
        o.WriteLine($"  {s.Done} done: {s.Checked} checked, {s.Merged} identical to one checked before (merged)" +
                    (s.Resumed > 0 ? $", {s.Resumed} from the run resumed" : "") +
                    $"; {s.Elapsed.TotalSeconds:0.0} s, {Rate(s):0.0} states/s");
        o.WriteLine(s.Failed == 0 ? "  no state failed" : $"  {s.Failed} FAILED");
        if (s.Strategies.Count > 0)
        {
            o.WriteLine();
            o.WriteLine($"  {"strategy",-10} {"states",8} {"failed",8}");
            foreach (StrategyTally t in s.Strategies)
                o.WriteLine($"  {t.Strategy,-10} {t.States,8} {t.Failed,8}");
        }
        foreach (StateResult f in s.Failures.Where(f => f.MergedInto is null).Take(FailuresShown))
            WriteFailure(o, run, f);
        int shown = s.Failures.Count(f => f.MergedInto is null);
        if (shown > FailuresShown)
            o.WriteLine($"... and {shown - FailuresShown} more failures (all of them in {(reportDirectory is null ? "--report DIR" : Path.Combine(reportDirectory, ResultsLog.FileName))})");
        if (reportDirectory is not null)
            o.WriteLine($"report: {Path.Combine(reportDirectory, "report.html")} (results: {Path.Combine(reportDirectory, ResultsLog.FileName)}, {Path.Combine(reportDirectory, SummaryFile)})");
    }

    private static void WriteFailure(TextWriter o, ExploreRunInfo run, StateResult f)
    {
        o.WriteLine();
        o.WriteLine($"FAILED {f.Id}: power cut after entry {f.CrashEntry}" + (f.LastMark is null ? "" : $" (last mark '{Printable(f.LastMark)}')") + $", {f.Strategy}");
        o.WriteLine($"  persisted {Entries(f.Persisted)}; dropped {Entries(f.Dropped)}");
        foreach (string d in f.Details) o.WriteLine($"  {d}");
        if (f.Minimized is { } m)
        {
            bool modified = m.Id.Count(c => c == '-') > 1; // torn, zeroed, ... writes stay in the minimized state
            o.WriteLine(m.PersistedEntries.Count == 0
                ? $"  minimized ({m.Checks} checks): {m.Id} fails with no other volatile write persisted" +
                  (modified ? "" : ": the durable image itself fails")
                : $"  minimized ({m.Checks} checks): {m.Id} persists only {Entries(m.PersistedEntries)}");
            if (m.DroppedId is not null)
                o.WriteLine($"             {m.DroppedId} drops only {Entries(m.DroppedEntries!)}");
        }
        // The first line says who failed how; the last ones what they found (fsck's progress lines come between).
        string[] lines = f.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (string line in lines.Length <= 7 ? lines : [lines[0], "...", .. lines[^6..]])
            o.WriteLine($"  | {Printable(line)}");
        o.WriteLine($"  reproduce: {MaterializeCommand(run, f.Minimized?.Id ?? f.Id)}");
    }

    public static string MaterializeCommand(ExploreRunInfo run, string id) =>
        $"fastlog materialize --log {run.LogPath} " + (run.BaseImage is { } b ? $"--base {b} " : $"--size {run.DeviceSize} ") +
        (run.AtomicUnit != run.SectorSize ? $"--atomic-unit {run.AtomicUnit} " : "") + $"--state {id} -o {id}.img";

    private static string Entries(IReadOnlyList<int> entries) =>
        entries.Count == 0 ? "nothing" : entries.Count <= 12 ? "entries " + string.Join(' ', entries) : $"{entries.Count} writes ({string.Join(' ', entries.Take(10))} ...)";

    /// <summary>Log and checker text is untrusted: control characters are shown as escapes, never sent to the terminal.</summary>
    internal static string Printable(string text)
    {
        var b = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (char.IsControl(c) && c != '\t') b.Append($"\\x{(int)c:x2}");
            else b.Append(c);
        }
        return b.ToString();
    }
}
