using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FastLog.Explorer;
using FastLog.Explorer.Checkers;
using FastLog.LogFormat;

namespace FastLog.Cli.Commands;

/// <summary>
/// <c>fastlog explore</c>: every disk state a power cut could leave, checked, minimized and reproducible.
/// Exit status as fsck and test runners: 0 every state passed, 1 some failed, 2 bad usage or unreadable input.
/// </summary>
internal static class ExploreCommand
{
    public const int Passed = 0, Failed = 1, Usage = 2;

    private static readonly Option<string?> Log = new("--log") { Description = "The log (dm-log-writes v1: FastLog's or the kernel's)" };
    private static readonly Option<string?> Base = new("--base") { Description = "The image the log started from (never written). Default: zeros of the device's size" };
    private static readonly Option<long?> Size = new("--size") { Description = "The device's size in bytes. Default: the base image's, or what capture recorded in the log" };
    private static readonly Option<string[]> Check = new("--check")
    {
        Description = "What a state must pass: 'fs' (mount, unmount, fsck read-only), 'oracle=JOURNAL' (files hold what fastlog " +
                      "stress promised), or a shell command (exit 0 passes; it gets FASTLOG_DEVICE, FASTLOG_STATE, " +
                      "FASTLOG_CRASH_ENTRY, FASTLOG_LAST_MARK). Combine with commas or repeat: --check fs,oracle=J",
        AllowMultipleArgumentsPerToken = false,
    };
    private static readonly Option<string> Points = new("--points")
    {
        Description = "Crash points (power is cut right after these entries): flush, fua, mark, end, all, entry:N-M; comma-separated",
        DefaultValueFactory = _ => "flush,fua,mark,end",
    };
    private static readonly Option<string?> AfterMark = new("--after-mark") { Description = "Only crash points after this mark: put one after mkfs, so that a crash during mkfs is not a failure" };
    private static readonly Option<string> Strategy = new("--strategy")
    {
        Description = "Which states at each point: prefix (all volatile writes persisted, in order: replay-log's view), subsets (any " +
                      "subset of them), torn (a write persists only some atomic units), versions (an older version of a block " +
                      "landed last), corrupt (a write in flight reads back as zeros or random bytes); comma-separated",
        DefaultValueFactory = _ => "prefix,subsets",
    };
    private static readonly Option<int> MaxSubset = new("--max-subset") { Description = "Every subset where a point has at most K volatile writes; beyond that sizes <= 2, co-sizes <= 2, then random samples", DefaultValueFactory = _ => 10 };
    private static readonly Option<long> Budget = new("--budget") { Description = "States in the whole run, spread over the crash points so none is starved", DefaultValueFactory = _ => 10_000 };
    private static readonly Option<ulong> Seed = new("--seed") { Description = "Chooses the random samples (same seed, same states)", DefaultValueFactory = _ => 1UL };
    private static readonly Option<int> Jobs = new("--jobs") { Description = "States checked in parallel, each on a device of its own", DefaultValueFactory = _ => Environment.ProcessorCount };
    private static readonly Option<string?> Shard = new("--shard") { Description = "i/N: check only shard i of N of the state space (identical states stay in one shard); join with --merge" };
    private static readonly Option<string?> Report = new("--report") { Description = "Directory for results.jsonl (one line per state, written as it finishes), summary.json and report.html" };
    private static readonly Option<bool> Resume = new("--resume") { Description = "Continue the run whose --report DIR this is: states already recorded there are not checked again" };
    private static readonly Option<bool> Json = new("--json") { Description = "Print the summary as JSON on stdout" };
    private static readonly Option<double> CheckTimeout = new("--check-timeout") { Description = "Seconds a check may take; longer is a failure", DefaultValueFactory = _ => 60 };
    private static readonly Option<int> AtomicUnit = new("--atomic-unit") { Description = "Bytes a device writes all-or-nothing (torn writes split there). Default: the log's sector size" };
    private static readonly Option<int> MinimizeBudget = new("--minimize-budget") { Description = "Checks one failure's minimization may spend (0: do not minimize)", DefaultValueFactory = _ => 200 };
    private static readonly Option<string> WorkDir = new("--work-dir") { Description = "Where the durable image (sparse, the device's size) and the jobs' files live", DefaultValueFactory = _ => "/var/tmp" };
    private static readonly Option<string[]> Merge = new("--merge") { Description = "Join the --report directories of shard runs into one (with --report OUT)", AllowMultipleArgumentsPerToken = true };

    public static Command Create()
    {
        var command = new Command("explore", """
            Check every disk state a power cut could leave. After any log entry (a crash point), the writes before
            the last completed FLUSH are durable, and so are completed FUA writes; every other write since that
            FLUSH may or may not have reached the media, in any order, possibly torn. explore enumerates those
            states (--points, --strategy, --budget), shows each one to the kernel as a block device without
            replaying the log from the start (durable image + an overlay of the chosen writes), runs --check on
            it, and minimizes every failure to the fewest writes that still fail. Each state has an ID; write
            one out as an image with `fastlog materialize --state ID`.
            Needs root (FUSE and loop devices) for every check.
            Exit status: 0 every state passed, 1 some failed, 2 bad usage or unreadable input.
            Examples:
              fastlog explore --log run.log --check fs --after-mark mkfs --report out/
              fastlog explore --log run.log --check 'my-checker "$FASTLOG_DEVICE"' --strategy prefix,subsets,torn
              fastlog explore --log run.log --check fs --points entry:1200-1350 --budget 100000
              fastlog explore --log run.log --check fs --shard 0/3 --report s0/   # ... s1/, s2/, then:
              fastlog explore --merge s0/ s1/ s2/ --report all/
            """);
        foreach (Option o in (Option[])[Log, Base, Size, Check, Points, AfterMark, Strategy, MaxSubset, Budget, Seed, Jobs, Shard, Report, Resume, Json,
                     CheckTimeout, AtomicUnit, MinimizeBudget, WorkDir, Merge])
            command.Options.Add(o);
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        if (parse.GetValue(Merge) is { Length: > 0 } shards)
            return ExploreMerge.Run(shards, parse.GetValue(Report), parse.GetValue(Json));
        string? logPath = parse.GetValue(Log);
        if (string.IsNullOrEmpty(logPath))
            return UsageError("--log is required (or --merge DIR... to join shard results)");
        string[] checks = parse.GetValue(Check) ?? [];
        if (checks.Length == 0)
            return UsageError("--check is required: fs, oracle=JOURNAL, or a command (see --help)");
        LogIndex index;
        try
        {
            index = LogIndexFile.OpenOrBuild(logPath);
        }
        catch (Exception e) when (e is LogFormatException or IOException or UnauthorizedAccessException)
        {
            return UsageError(e.Message);
        }
        IStateChecker checker;
        Strategies strategies;
        (int Index, int Count) shard = (0, 1);
        try
        {
            checker = Checkers(checks, index);
            strategies = ParseStrategies(parse.GetValue(Strategy)!);
            if (parse.GetValue(Shard) is { } s)
                shard = ParseShard(s);
        }
        catch (Exception e) when (e is FormatException or CheckerUnavailableException)
        {
            return UsageError(e.Message);
        }
        var options = new ExploreOptions
        {
            LogPath = logPath,
            BaseImage = parse.GetValue(Base),
            DeviceSize = parse.GetValue(Size),
            Points = parse.GetValue(Points)!,
            AfterMark = parse.GetValue(AfterMark),
            Plan = new PlanOptions
            {
                Strategies = strategies,
                MaxSubset = parse.GetValue(MaxSubset),
                Budget = parse.GetValue(Budget),
                Seed = parse.GetValue(Seed),
                AtomicUnit = parse.GetValue(AtomicUnit) is > 0 and int unit ? unit : index.SectorSize,
            },
            Checker = checker,
            Jobs = parse.GetValue(Jobs),
            ShardIndex = shard.Index,
            ShardCount = shard.Count,
            ReportDirectory = parse.GetValue(Report),
            Resume = parse.GetValue(Resume),
            CheckTimeout = TimeSpan.FromSeconds(parse.GetValue(CheckTimeout)),
            MinimizeBudget = parse.GetValue(MinimizeBudget),
            WorkRoot = parse.GetValue(WorkDir)!,
        };
        if (options.Problem() is { } problem)
            return UsageError(problem);
        if (options.BaseImage is { } baseImage && !File.Exists(baseImage))
            return UsageError($"--base {baseImage}: no such file");

        CrashExplorer explorer;
        try
        {
            explorer = new CrashExplorer(options);
        }
        catch (Exception e) when (e is LogFormatException or IOException or UnauthorizedAccessException or ArgumentException or FormatException)
        {
            return UsageError(e.Message);
        }
        using (explorer)
        {
            using var stop = new CancellationTokenSource();
            using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            var progress = new ProgressLine(Console.Error);
            ExploreSummary summary;
            DateTimeOffset started = DateTimeOffset.UtcNow;
            try
            {
                if (options.Resume)
                    Console.Error.WriteLine($"fastlog explore: resuming the run in {options.ReportDirectory}");
                summary = explorer.Run(progress.Report, stop.Token, progress.Say);
            }
            catch (Exception e) when (e is CheckerUnavailableException or FormatException)
            {
                progress.Clear();
                return UsageError(e.Message);
            }
            catch (Exception e) when (e is IOException or LogFormatException or UnauthorizedAccessException)
            {
                progress.Clear();
                Console.Error.WriteLine($"fastlog explore: {e.Message}");
                return Usage;
            }
            progress.Clear();
            var run = new ExploreRunInfo(Path.GetFullPath(logPath), options.BaseImage is null ? null : Path.GetFullPath(options.BaseImage),
                explorer.DeviceSize, index.SectorSize, options.Plan.AtomicUnit, Environment.CommandLine, shard.Index, shard.Count,
                checker.Name, started);
            ExploreReportWriter.Write(run, summary, index, options.ReportDirectory, parse.GetValue(Json));
            if (summary.Interrupted)
                Console.Error.WriteLine($"fastlog explore: interrupted; {summary.Done} states done" +
                                        (options.ReportDirectory is { } d ? $", continue with the same command and --resume (results in {d})" : ""));
            return summary.Failed > 0 ? Failed : Passed;
        }
    }

    /// <summary>
    /// fs, oracle=J and commands, comma-separated; a token that is neither fs nor oracle=... starts a command that runs to
    /// the end of that --check value (so a command may contain commas).
    /// </summary>
    internal static IStateChecker Checkers(IEnumerable<string> values, LogIndex index)
    {
        var checkers = new List<IStateChecker>();
        foreach (string value in values)
        {
            string[] tokens = value.Split(',');
            for (int i = 0; i < tokens.Length; i++)
            {
                string t = tokens[i].Trim();
                if (t == "fs")
                    checkers.Add(new FilesystemChecker());
                else if (t.StartsWith("oracle=", StringComparison.Ordinal))
                    checkers.Add(new OracleChecker(t["oracle=".Length..], index));
                else if (t.Length > 0)
                {
                    checkers.Add(new CommandChecker(string.Join(',', tokens[i..]).Trim()));
                    break;
                }
            }
        }
        if (checkers.Count == 0)
            throw new FormatException("--check names no check");
        return checkers.Count == 1 ? checkers[0] : new AllOf(checkers);
    }

    internal static Strategies ParseStrategies(string spec)
    {
        Strategies s = Strategies.None;
        foreach (string name in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            s |= name switch
            {
                "prefix" => Strategies.Prefix,
                "subsets" => Strategies.Subsets,
                "torn" => Strategies.Torn,
                "versions" => Strategies.Versions,
                "corrupt" => Strategies.Corrupt,
                _ => throw new FormatException($"--strategy: '{name}' is not one of prefix, subsets, torn, versions, corrupt"),
            };
        return s;
    }

    private static (int, int) ParseShard(string s)
    {
        string[] p = s.Split('/');
        if (p.Length == 2 && int.TryParse(p[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && i < n)
            return (i, n);
        throw new FormatException($"--shard {s}: want i/N with 0 <= i < N, e.g. 0/3");
    }

    internal static int UsageError(string message)
    {
        Console.Error.WriteLine($"fastlog explore: {message}");
        return Usage;
    }
}

/// <summary>What a results directory needs to be merged or resumed: where the states came from.</summary>
internal sealed record ExploreRunInfo(string LogPath, string? BaseImage, long DeviceSize, int SectorSize, int AtomicUnit, string CommandLine, int ShardIndex, int ShardCount, string Checker, DateTimeOffset Started)
{
    public const string FileName = "run.json";

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject("run");
        w.WriteString("log", LogPath);
        if (BaseImage is not null) w.WriteString("base", BaseImage);
        w.WriteNumber("device_size", DeviceSize);
        w.WriteNumber("sector_size", SectorSize);
        w.WriteNumber("atomic_unit", AtomicUnit);
        w.WriteString("command", CommandLine);
        w.WriteString("shard", $"{ShardIndex}/{ShardCount}");
        w.WriteString("checker", Checker);
        w.WriteString("started", Started);
        w.WriteEndObject();
    }

    public static ExploreRunInfo Read(JsonElement run)
    {
        string[] shard = run.GetProperty("shard").GetString()!.Split('/');
        return new ExploreRunInfo(run.GetProperty("log").GetString()!, run.TryGetProperty("base", out JsonElement b) ? b.GetString() : null,
            run.GetProperty("device_size").GetInt64(), run.GetProperty("sector_size").GetInt32(), run.GetProperty("atomic_unit").GetInt32(),
            run.GetProperty("command").GetString()!, int.Parse(shard[0], CultureInfo.InvariantCulture), int.Parse(shard[1], CultureInfo.InvariantCulture),
            run.GetProperty("checker").GetString()!, run.GetProperty("started").GetDateTimeOffset());
    }
}
