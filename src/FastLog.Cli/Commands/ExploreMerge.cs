using System.Text.Json;
using FastLog.Explorer;
using FastLog.LogFormat;

namespace FastLog.Cli.Commands;

/// <summary>
/// <c>fastlog explore --merge DIR... --report OUT</c>: joins the results of shard runs of one exploration. The shards
/// must come from the same log, device and atomic unit, and be distinct shards of the same N.
/// </summary>
internal static class ExploreMerge
{
    public static int Run(string[] directories, string? output, bool json)
    {
        var runs = new List<ExploreRunInfo>();
        var results = new List<StateResult>();
        long planned = 0, elapsedTicks = 0;
        int crashPoints = 0;
        foreach (string dir in directories)
        {
            string summaryPath = Path.Combine(dir, ExploreReportWriter.SummaryFile);
            if (!File.Exists(summaryPath))
                return ExploreCommand.UsageError($"{dir}: no {ExploreReportWriter.SummaryFile} (not a finished explore --report directory)");
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(summaryPath));
                runs.Add(ExploreRunInfo.Read(doc.RootElement.GetProperty("run")));
                planned = doc.RootElement.GetProperty("planned").GetInt64();
                crashPoints = doc.RootElement.GetProperty("crash_points").GetInt32();
                elapsedTicks = Math.Max(elapsedTicks, TimeSpan.FromSeconds(doc.RootElement.GetProperty("elapsed_seconds").GetDouble()).Ticks);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                return ExploreCommand.UsageError($"{summaryPath}: not an explore summary ({e.Message})");
            }
            results.AddRange(ResultsLog.Read(dir));
        }
        ExploreRunInfo first = runs[0];
        if (runs.Any(r => r.LogPath != first.LogPath || r.DeviceSize != first.DeviceSize || r.AtomicUnit != first.AtomicUnit || r.BaseImage != first.BaseImage))
            return ExploreCommand.UsageError("the directories explored different logs, devices or atomic units: " +
                                             string.Join("; ", runs.Select(r => $"{r.LogPath} ({r.DeviceSize} bytes)").Distinct()));
        if (runs.Any(r => r.ShardCount != first.ShardCount) || runs.Select(r => r.ShardIndex).Distinct().Count() != runs.Count)
            return ExploreCommand.UsageError("the directories are not distinct shards of one run: " + string.Join(", ", runs.Select(r => $"{r.ShardIndex}/{r.ShardCount}")));
        string missing = string.Join(", ", Enumerable.Range(0, first.ShardCount).Except(runs.Select(r => r.ShardIndex)).Select(i => $"{i}/{first.ShardCount}"));
        if (missing.Length > 0)
            Console.Error.WriteLine($"fastlog explore --merge: shards {missing} are missing: the merged report covers only part of the states");

        results = results.OrderBy(r => r.CrashEntry).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
        if (output is not null)
        {
            using var log = new ResultsLog(output, append: false);
            foreach (StateResult r in results) log.Append(r);
        }
        var failures = results.Where(r => r.Outcome == StateOutcome.Failed).ToList();
        var summary = new ExploreSummary(planned, results.Count, results.Count(r => r.MergedInto is null), results.Count(r => r.MergedInto is not null),
            failures.Count, 0, 0, false, crashPoints, TimeSpan.FromTicks(elapsedTicks), failures,
            results.GroupBy(r => r.CrashEntry).Select(g => new CrashPointTally(g.Key, g.Count(), g.Count(r => r.Outcome == StateOutcome.Failed))).ToList())
        {
            Strategies = results.GroupBy(r => r.Strategy).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new StrategyTally(g.Key, g.Count(), g.Count(r => r.Outcome == StateOutcome.Failed))).ToList(),
        };
        LogIndex index;
        try
        {
            index = LogIndexFile.OpenOrBuild(first.LogPath);
        }
        catch (Exception e) when (e is LogFormatException or IOException or UnauthorizedAccessException)
        {
            return ExploreCommand.UsageError($"the shards explored {first.LogPath}, which cannot be read now: {e.Message}");
        }
        ExploreReportWriter.Write(first with { ShardIndex = 0, ShardCount = 1, CommandLine = Environment.CommandLine }, summary, index, output, json);
        return failures.Count > 0 ? ExploreCommand.Failed : ExploreCommand.Passed;
    }
}
