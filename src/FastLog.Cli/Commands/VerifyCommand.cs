using System.CommandLine;
using FastLog.Workload;

namespace FastLog.Cli.Commands;

/// <summary>
/// <c>fastlog verify</c>: the stress oracle (<see cref="OracleVerifier"/>) over a remounted directory.
/// Exit status: 0 every promise holds, 1 a mismatch, 2 bad usage or an unreadable journal.
/// </summary>
internal static class VerifyCommand
{
    private static readonly Option<string> Dir = new("--dir") { Description = "The directory stress ran in, after the device came back and was remounted", HelpName = "MOUNTPOINT" };
    private static readonly Option<string> Journal = new("--journal") { Description = "The journal stress wrote (a journal cut short reads up to its last complete record)", HelpName = "FILE" };
    private static readonly Option<string> UpToPromise = new("--up-to-promise") { Description = "Judge with promises 1..K in force (K of a log mark stress:K, for a crash state at that mark); default: all", HelpName = "K" };
    private static readonly Option<bool> Json = new("--json") { Description = "Print the report as JSON" };

    public static Command Create()
    {
        var command = new Command("verify", """
            Check that every stress file holds at least what its last acknowledged fsync promised: each 512-byte
            unit holds the version that promise covers, or the data of any later write to it (acknowledged or
            not); past the promised size it may also be absent. Every mismatch is reported with file, offset,
            the versions (write numbers) that were allowed and what was found (zeros, another version, garbage).
            Exit status: 0 all promises hold, 1 a mismatch, 2 bad usage or an unreadable journal.
            Example:
              fastlog verify --dir /mnt --journal /var/tmp/j
            """);
        foreach (Option option in (Option[])[Dir, Journal, UpToPromise, Json])
            command.Options.Add(option);
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        string? dir = parse.GetValue(Dir), journal = parse.GetValue(Journal);
        if (string.IsNullOrEmpty(dir) || string.IsNullOrEmpty(journal))
            return Usage("--dir and --journal are required");
        if (!Directory.Exists(dir))
            return Usage($"--dir {dir}: no such directory");
        long? upTo = null;
        if (parse.GetValue(UpToPromise) is { } text)
        {
            if (!CliNumbers.TryCount(text, out long k))
                return Usage($"--up-to-promise {text}: a promise number (0 or more)");
            upTo = k;
        }
        OracleReport report;
        try
        {
            report = OracleVerifier.Verify(dir, journal, upTo);
        }
        catch (Exception e) when (e is StressJournalException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            return Usage(e.Message);
        }
        if (parse.GetValue(Json))
            VerifyJsonReport.Write(Console.OpenStandardOutput(), report);
        else
            WriteText(report);
        return report.Passed ? 0 : 1;
    }

    private static void WriteText(OracleReport report)
    {
        TextWriter o = Console.Out;
        o.WriteLine($"journal {report.JournalPath}: {report.Writes} writes, {report.Promises} promises" +
                    (report.Header is { } h ? $" ({h})" : ""));
        if (report.JournalDamage is { } damage)
            o.WriteLine($"journal read up to its last complete record: {damage}");
        if (report.RunEnding is { } ending)
            o.WriteLine(ending);
        o.WriteLine($"promises in force: 1 to {report.PromiseInForce}");
        foreach (OracleFileReport f in report.Files)
            o.WriteLine($"  {f.File}: " + (f.Promise == 0 ? "no promise" : $"promise {f.Promise} (writes up to {f.CoveredWrite}, size {f.PromisedSize}{(f.PromiseSkipped ? ", its fsync skipped on purpose" : "")})") +
                        $", {(f.ActualSize < 0 ? "missing" : $"{f.ActualSize} bytes")}" + (f.MismatchedBytes > 0 ? $", {f.MismatchedBytes} bytes BROKEN" : ", ok"));
        foreach (IGrouping<string, OracleMismatch> file in report.Mismatches.GroupBy(m => m.File))
        {
            foreach (OracleMismatch m in file.Take(TextMismatchesPerFile))
                o.WriteLine($"MISMATCH {m}");
            if (file.Count() > TextMismatchesPerFile)
                o.WriteLine($"... and {file.Count() - TextMismatchesPerFile} more mismatched ranges in {file.Key} (--json lists them all)");
        }
        if (report.MismatchesOmitted > 0)
            o.WriteLine($"... and {report.MismatchesOmitted} more mismatched ranges, not listed");
        o.WriteLine(report.Passed
            ? $"verify: ok: {report.Files.Count} files hold what promises 1 to {report.PromiseInForce} said"
            : $"verify: FAILED: {report.MismatchedBytes} bytes in {report.Mismatches.Count + report.MismatchesOmitted} ranges broke their promise");
        o.Flush();
    }

    /// <summary>A truncated file breaks one range per promised version; the text report shows the first few.</summary>
    private const int TextMismatchesPerFile = 20;

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"fastlog verify: {message}");
        return 2;
    }
}
