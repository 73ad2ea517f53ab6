using System.CommandLine;

namespace FastLog.Cli.Commands;

/// <summary>Every subcommand, one file each; add yours here.</summary>
internal static class Commands
{
    public static IEnumerable<Command> All() =>
    [
        CaptureCommand.Create(),
        MarkCommand.Create(),
        PowerFailCommand.Create(),
        PowerOnCommand.Create(),
        ReplayCommand.Create(),
        InspectCommand.Create(),
        GenerateLogCommand.Create(),
        DemoCommand.Create(),
    ];
}
