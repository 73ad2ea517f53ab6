using System.CommandLine;
using FastLog.Explorer;
using FastLog.LogFormat;

namespace FastLog.Cli.Commands;

/// <summary><c>fastlog materialize</c>: one crash state, by its ID, as a whole image.</summary>
internal static class MaterializeCommand
{
    private static readonly Option<string> Log = new("--log") { Description = "The log the state comes from", Required = true };
    private static readonly Option<string?> Base = new("--base") { Description = "The image the log started from (as given to explore)" };
    private static readonly Option<long?> Size = new("--size") { Description = "The device's size in bytes (default: the base image's, or what capture recorded)" };
    private static readonly Option<string> State = new("--state") { Description = "A state ID from explore, e.g. e41-L3", Required = true };
    private static readonly Option<string> Output = new("-o", "--output") { Description = "The image to write (created or overwritten)", Required = true };
    private static readonly Option<int> AtomicUnit = new("--atomic-unit") { Description = "As given to explore (torn writes split there). Default: the log's sector size" };

    public static Command Create()
    {
        var command = new Command("materialize", """
            Write one crash state as a disk image: the durable image at its crash point with the state's writes on
            top. The ID comes from `fastlog explore` (its report prints this command for every failure), so a
            failure reproduces anywhere the log is: mount the image, run fsck on it, attach it to a VM.
            Exit status: 0 written, 2 bad usage or unreadable input.
            Example:
              fastlog materialize --log run.log --state e41-L3 -o state.img && e2fsck -fn state.img
            """);
        foreach (Option o in (Option[])[Log, Base, Size, State, Output, AtomicUnit])
            command.Options.Add(o);
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        string log = parse.GetValue(Log)!, id = parse.GetValue(State)!, output = parse.GetValue(Output)!;
        try
        {
            LogIndex index = LogIndexFile.OpenOrBuild(log);
            string? baseImage = parse.GetValue(Base);
            long size = CrashExplorer.ResolveSize(log, baseImage, parse.GetValue(Size), index);
            int unit = parse.GetValue(AtomicUnit) is > 0 and int u ? u : index.SectorSize;
            CrashState state = StateMaterializer.Write(log, baseImage, size, id, output, unit);
            Console.Error.WriteLine($"fastlog materialize: wrote {output} ({size} bytes): state {state.Id}, power cut after entry {state.CrashEntry}, " +
                                    $"{state.PersistedCount} of {state.Persisted.Length} volatile writes persisted");
            return 0;
        }
        catch (Exception e) when (e is LogFormatException or IOException or UnauthorizedAccessException or ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"fastlog materialize: {e.Message}");
            return 2;
        }
    }
}
