using System.CommandLine;
using FastLog.Backends;
using FastLog.Capture;

namespace FastLog.Cli.Commands;

/// <summary><c>fastlog powerfail DEVICE [--keep KEEP]</c>: cuts the power of a capture started with --power-fail, now.</summary>
internal static class PowerFailCommand
{
    public static Command Create()
    {
        var device = new Argument<string>("DEVICE") { Description = "The captured block device, as capture printed it (/dev/loop3)" };
        var keep = new Option<string?>("--keep") { Description = "Override capture's --keep for this cut", HelpName = PowerFailKeep.Syntax };
        var status = new Option<bool>("--status") { Description = "Cut nothing: print power=on or power=off (a trigger may have cut it already)" };
        var command = new Command("powerfail", """
            Cut the power of a capture started with --power-fail: from now on every request fails with EIO, and the backing
            holds the crash state (the durable writes, plus what --keep keeps of the cached ones). The log gets the marks
            'powerfail', 'powerfail-keep=...' and 'powerfail-kept:...' and is durable up to them when this returns.
            Prints one line on stdout: keep=POLICY cached=N kept=K block-size=B (N and K in blocks of B bytes).
            Exit codes: 0 done, 1 error (no capture for DEVICE, no --power-fail, bad --keep), 2 the power was already off.
            """);
        command.Arguments.Add(device);
        command.Options.Add(keep);
        command.Options.Add(status);
        command.SetAction(parse =>
        {
            if (parse.GetValue(status))
                return Send("powerfail", parse.GetValue(device)!, "status");
            string? keepText = parse.GetValue(keep);
            if (keepText is not null && !PowerFailKeep.TryParse(keepText, out _, out string? error))
                return Fail("powerfail", $"--keep: {error}");
            return Send("powerfail", parse.GetValue(device)!, keepText is null ? "powerfail" : $"powerfail {keepText}");
        });
        return command;
    }

    /// <summary>Sends a control request; prints its reply's text on stdout and returns 0, or 2 for a device already in
    /// the state asked for, or 1.</summary>
    internal static int Send(string commandName, string device, string request)
    {
        (bool ok, string text) = MarkServer.Control(device, request);
        if (ok)
        {
            if (text.Length > 0)
                Console.Out.WriteLine(text);
            return 0;
        }
        if (text.StartsWith(PowerControl.WrongState, StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"fastlog {commandName}: {device}: {text[PowerControl.WrongState.Length..]}");
            return 2;
        }
        return Fail(commandName, text);
    }

    private static int Fail(string commandName, string message)
    {
        Console.Error.WriteLine($"fastlog {commandName}: {message}");
        return 1;
    }
}
