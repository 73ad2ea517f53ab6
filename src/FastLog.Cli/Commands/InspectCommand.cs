using System.CommandLine;
using FastLog.LogFormat;

namespace FastLog.Cli.Commands;

/// <summary><c>fastlog inspect LOG [LOG2]</c>: what a log contains, from its index (no payload is read).</summary>
internal static class InspectCommand
{
    private static readonly Argument<string[]> Logs = new("LOG")
    {
        Description = "One log, or two to compare side by side.",
        Arity = new ArgumentArity(1, 2),
    };
    private static readonly Option<bool> Entries = new("--entries") { Description = "List every entry: number, log byte offset, sector, bytes, flags, mark name." };
    private static readonly Option<bool> Json = new("--json") { Description = "Machine-readable output (one object with a 'logs' array)." };
    private static readonly Option<bool> Scan = new("--scan") { Description = "Include entries past a stale nr_entries, up to the first implausible header." };

    public static Command Create()
    {
        var command = new Command("inspect", """
            Summarize a dm-log-writes log: entries by kind, bytes written and discarded, marks with their entry
            numbers, flush epochs (count, longest, writes-per-epoch histogram), FUA count, write sizes and the
            share of sequential writes. Give two logs to compare them column by column.
            The first run indexes the log (LOG.flidx beside it); later runs are instant.
            Exit status: 0, 1 if a log cannot be read at all, 2 if a log is damaged part way (the report
            covers the entries before the damage and names where it is).
            Examples:
              fastlog inspect run.log
              fastlog inspect --entries run.log | grep MARK
              fastlog inspect --json before.log after.log
            """);
        command.Arguments.Add(Logs);
        foreach (Option option in (Option[])[Entries, Json, Scan])
            command.Options.Add(option);
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        var indexes = new List<LogIndex>();
        foreach (string path in parse.GetValue(Logs)!)
        {
            try
            {
                indexes.Add(LogIndexFile.OpenOrBuild(path, parse.GetValue(Scan)));
            }
            catch (Exception e) when (e is LogFormatException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"fastlog inspect: {e.Message}");
                return 1;
            }
        }
        using var output = new StreamWriter(Console.OpenStandardOutput(), bufferSize: 1 << 16);
        bool entries = parse.GetValue(Entries);
        if (parse.GetValue(Json))
            InspectJsonReport.Write(output, indexes, entries);
        else
            InspectTextReport.Write(output, indexes, entries);
        return indexes.Any(i => i.Damage is not null) ? 2 : 0;
    }
}
