using System.CommandLine;
using FastLog.Capture;

namespace FastLog.Cli.Commands;

/// <summary><c>fastlog mark DEVICE NAME</c>: inserts a named mark into the log of a running capture.</summary>
internal static class MarkCommand
{
    public static Command Create()
    {
        var device = new Argument<string>("DEVICE") { Description = "The captured block device, as capture printed it (/dev/loop3), or any path to it (found by device number)" };
        var name = new Argument<string>("NAME") { Description = "Mark name: one line, 1 to 479 bytes of UTF-8 (512-byte log sectors) or 4063 (4096-byte)" };
        var command = new Command("mark", "Insert a named mark between the requests completed before and after it");
        command.Arguments.Add(device);
        command.Arguments.Add(name);
        command.SetAction(parse =>
        {
            string? error = MarkServer.Send(parse.GetValue(device)!, parse.GetValue(name)!);
            if (error is null)
                return 0;
            Console.Error.WriteLine($"fastlog mark: {error}");
            return 1;
        });
        return command;
    }
}
