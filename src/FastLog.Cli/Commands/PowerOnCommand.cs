using System.CommandLine;
using FastLog.Capture;

namespace FastLog.Cli.Commands;

/// <summary><c>fastlog poweron DEVICE</c>: restores service after a power cut, with the page cache dropped.</summary>
internal static class PowerOnCommand
{
    public static Command Create()
    {
        var device = new Argument<string>("DEVICE") { Description = "The captured block device, as capture printed it (/dev/loop3)" };
        var command = new Command("poweron", """
            Restore service after a power cut: the device now holds the crash state. Its page cache is dropped first, so nothing
            read or written through it before the cut is served after it (unmount file systems on it before; this runs
            BLKFLSBUF on DEVICE from this process, never from the server). The log gets a 'poweron' mark.
            Prints 'power=on' on stdout. Exit codes: 0 done, 1 error (no capture for DEVICE, no --power-fail), 2 the power was on.
            """);
        command.Arguments.Add(device);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(device)!;
            // While the power is off, the flush fails every dirty page (gone with the cut) and clean ones are dropped;
            // once it is on, a second drop removes anything read in between (nothing: reads failed).
            if (PowerControl.DropPageCache(path) is { } error)
            {
                Console.Error.WriteLine($"fastlog poweron: {error}");
                return 1;
            }
            int rc = PowerFailCommand.Send("poweron", path, "poweron");
            if (rc == 0 && PowerControl.DropPageCache(path) is { } after)
            {
                Console.Error.WriteLine($"fastlog poweron: {after}");
                return 1;
            }
            return rc;
        });
        return command;
    }
}
