using System.CommandLine;

namespace FastLog.Cli.Commands;

/// <summary>The table of subcommands (one file each; add yours here) and how their exit codes are mapped.</summary>
internal static class CommandTable
{
    public static IEnumerable<Command> All() =>
    [
        CaptureCommand.Create(),
        MarkCommand.Create(),
        PowerFailCommand.Create(),
        PowerOnCommand.Create(),
        ReplayCommand.Create(),
        InspectCommand.Create(),
        ExploreCommand.Create(),
        MaterializeCommand.Create(),
        GenerateLogCommand.Create(),
        TortureCommand.Create(),
        DemoCommand.Create(),
        StressCommand.Create(),
        VerifyCommand.Create(),
    ];

    /// <summary>Commands whose usage errors exit 2 instead of System.CommandLine's 1 (1 means something else to them).</summary>
    private static readonly HashSet<string> UsageExitsTwo = ["stress", "verify", "explore", "materialize", "torture"];

    /// <summary>The exit status of <paramref name="parse"/>'s invocation, with usage errors mapped where a command says so.</summary>
    public static int ExitCode(ParseResult parse, int invoked) =>
        parse.Errors.Count > 0 && UsageExitsTwo.Contains(parse.CommandResult.Command.Name) ? 2 : invoked;
}
