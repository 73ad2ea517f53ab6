using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using FastLog.Workload;

namespace FastLog.Cli.Commands;

/// <summary>
/// <c>fastlog stress</c>: the power-fail workload (<see cref="StressRunner"/>). Exit status: 0 done (or stopped by
/// SIGINT/SIGTERM), 1 stress itself failed (journal, mark device), 2 bad usage, 3 stopped at an I/O error from the
/// device under test (where is printed and journaled).
/// </summary>
internal static class StressCommand
{
    public const int ExitIoError = 3;

    private static readonly Option<string> Dir = new("--dir") { Description = "The directory under test (on the mounted device); the files stress-0000, stress-0001, ... are created there (truncated if they exist)", HelpName = "MOUNTPOINT" };
    private static readonly Option<string> Journal = new("--journal") { Description = "The journal of writes and promises, OUTSIDE the device under test (refused on the same file system); verify reads it", HelpName = "FILE" };
    private static readonly Option<string> Files = new("--files") { Description = "How many files", DefaultValueFactory = _ => "4", HelpName = "N" };
    private static readonly Option<string> FileSize = new("--file-size") { Description = "Each file's size bound: writes land at random offsets below it (k, M, G suffixes; multiple of 512)", DefaultValueFactory = _ => "4M", HelpName = "SIZE" };
    private static readonly Option<string> WriteSize = new("--write-size") { Description = "Each write's length, uniform in MIN-MAX (or one SIZE), in 512-byte units", DefaultValueFactory = _ => "4k-64k", HelpName = "MIN-MAX" };
    private static readonly Option<string> FsyncRatio = new("--fsync-ratio") { Description = "The chance that a write is followed by an fsync of its file (each acknowledged one is a promise)", DefaultValueFactory = _ => "0.1", HelpName = "R" };
    private static readonly Option<bool> Fdatasync = new("--fdatasync") { Description = "Promise with fdatasync instead of fsync" };
    private static readonly Option<string> Duration = new("--duration") { Description = "Run this long (30s, 10m, 2h; default 60s unless --ops)", HelpName = "T" };
    private static readonly Option<string> Ops = new("--ops") { Description = "Stop after N writes (with --duration, whichever comes first)", HelpName = "N" };
    private static readonly Option<string> Seed = new("--seed") { Description = "Seed of the choices and the content (default: random, printed)", HelpName = "S" };
    private static readonly Option<string> MarkDevice = new("--mark-device") { Description = "A device served by 'fastlog capture': its log gets a mark stress:K after promise K (stress:0 before the first write)", HelpName = "DEV" };
    private static readonly Option<string> SkipFsyncEvery = new("--skip-fsync-every") { Description = "BROKEN ON PURPOSE: every Nth promise is journaled and marked but fsync is not called, to show that verify catches it", HelpName = "N" };

    public static Command Create()
    {
        var command = new Command("stress", """
            Random-offset writes plus fsync (or fdatasync) into a set of files, for hours on bounded memory.
            Every write's content follows from (seed, file, offset, write number), so nothing is stored per byte;
            the journal records each write before it is issued and each acknowledged fsync as a promise ("from now
            on the file holds at least what was written to it before"). Stops cleanly at the first I/O error and
            says where. Then, after the device comes back: fastlog verify --dir MOUNTPOINT --journal FILE.
            Exit status: 0 done (or SIGINT/SIGTERM), 1 stress failed (journal, mark device), 2 bad usage,
            3 stopped at an I/O error from the device under test.
            Example:
              fastlog stress --dir /mnt --journal /var/tmp/j --duration 10m --mark-device /dev/loop3
            """);
        foreach (Option option in (Option[])[Dir, Journal, Files, FileSize, WriteSize, FsyncRatio, Fdatasync, Duration, Ops, Seed, MarkDevice, SkipFsyncEvery])
            command.Options.Add(option);
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        if (!TryOptions(parse, out StressOptions? options, out string? error))
            return Usage(error);
        using var cancel = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cancel.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancel.Cancel(); });
        Console.Error.WriteLine($"fastlog stress: {options.Files} files of {options.FileSize} bytes in {options.Directory}, writes " +
                                $"{options.WriteMin}-{options.WriteMax} bytes, {(options.Fdatasync ? "fdatasync" : "fsync")} ratio " +
                                $"{options.FsyncRatio.ToString(CultureInfo.InvariantCulture)}, seed {options.Seed}, journal {options.JournalPath}" +
                                (options.SkipFsyncEvery > 0 ? $"; skipping every {options.SkipFsyncEvery}th fsync ON PURPOSE" : ""));
        StressResult result;
        try
        {
            result = StressRunner.Run(options, Console.Error, cancel.Token);
        }
        catch (ArgumentException e)
        {
            return Usage(e.Message);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"fastlog stress: {e.Message}");
            return 1;
        }
        double seconds = Math.Max(result.Elapsed.TotalSeconds, 1e-3);
        string summary = $"{result.Writes} writes ({result.Writes / seconds:F0}/s), {result.Promises} promises ({result.Promises / seconds:F0}/s)" +
                         (result.SkippedFsyncs > 0 ? $", {result.SkippedFsyncs} of them not fsync'd on purpose" : "") +
                         $" in {seconds:F1} s";
        if (result.Failure is { } failure)
        {
            Console.Error.WriteLine($"fastlog stress: STOPPED at an I/O error: {failure}");
            Console.Error.WriteLine($"fastlog stress: {summary}; journal {options.JournalPath} flushed");
            return ExitIoError;
        }
        Console.Error.WriteLine($"fastlog stress: {(result.Interrupted ? "interrupted after " : "done: ")}{summary}; journal {options.JournalPath}");
        return 0;
    }

    private static bool TryOptions(ParseResult parse, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out StressOptions? options, out string error)
    {
        options = null;
        error = "";
        string? dir = parse.GetValue(Dir), journal = parse.GetValue(Journal);
        if (string.IsNullOrEmpty(dir) || string.IsNullOrEmpty(journal))
        {
            error = "--dir and --journal are required";
            return false;
        }
        if (!CliNumbers.TryCount(parse.GetValue(Files)!, out long files) || files > int.MaxValue)
            return Bad(out error, $"--files {parse.GetValue(Files)}: a whole number");
        if (!CliNumbers.TrySize(parse.GetValue(FileSize)!, out long fileSize))
            return Bad(out error, $"--file-size {parse.GetValue(FileSize)}: a size such as 4096, 64k, 4M, 1G");
        if (!TryRange(parse.GetValue(WriteSize)!, out long writeMin, out long writeMax) || writeMax > int.MaxValue)
            return Bad(out error, $"--write-size {parse.GetValue(WriteSize)}: MIN-MAX or SIZE, such as 4k-64k");
        if (!double.TryParse(parse.GetValue(FsyncRatio), NumberStyles.Float, CultureInfo.InvariantCulture, out double ratio))
            return Bad(out error, $"--fsync-ratio {parse.GetValue(FsyncRatio)}: a number from 0 to 1");
        TimeSpan? duration = null;
        if (parse.GetValue(Duration) is { } durationText)
        {
            if (!CliNumbers.TryDuration(durationText, out TimeSpan d))
                return Bad(out error, $"--duration {durationText}: such as 90, 30s, 10m, 2h");
            duration = d;
        }
        long? ops = null;
        if (parse.GetValue(Ops) is { } opsText)
        {
            if (!CliNumbers.TryCount(opsText, out long n))
                return Bad(out error, $"--ops {opsText}: a whole number");
            ops = n;
        }
        ulong seed = (ulong)Random.Shared.NextInt64();
        if (parse.GetValue(Seed) is { } seedText && !ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out seed))
            return Bad(out error, $"--seed {seedText}: a whole number");
        long skip = 0;
        if (parse.GetValue(SkipFsyncEvery) is { } skipText && (!CliNumbers.TryCount(skipText, out skip) || skip > int.MaxValue))
            return Bad(out error, $"--skip-fsync-every {skipText}: a whole number");
        options = new StressOptions
        {
            Directory = dir,
            JournalPath = journal,
            Files = (int)files,
            FileSize = fileSize,
            WriteMin = (int)writeMin,
            WriteMax = (int)writeMax,
            FsyncRatio = ratio,
            Fdatasync = parse.GetValue(Fdatasync),
            Duration = duration,
            Ops = ops,
            Seed = seed,
            MarkDevice = parse.GetValue(MarkDevice),
            SkipFsyncEvery = (int)skip,
        };
        if (options.Validate() is { } invalid)
            return Bad(out error, invalid);
        return true;
    }

    private static bool TryRange(string text, out long min, out long max)
    {
        int dash = text.IndexOf('-');
        if (dash < 0)
        {
            bool ok = CliNumbers.TrySize(text, out min);
            max = min;
            return ok;
        }
        max = 0;
        return CliNumbers.TrySize(text[..dash], out min) && CliNumbers.TrySize(text[(dash + 1)..], out max);
    }

    private static bool Bad(out string error, string message)
    {
        error = message;
        return false;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"fastlog stress: {message} (fastlog stress --help)");
        return 2;
    }
}
