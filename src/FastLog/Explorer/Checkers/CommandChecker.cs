namespace FastLog.Explorer.Checkers;

/// <summary>
/// Any command, run by /bin/sh with the state in its environment: FASTLOG_DEVICE (the block device),
/// FASTLOG_STATE (its ID), FASTLOG_CRASH_ENTRY and FASTLOG_LAST_MARK. Exit 0 passes; a timeout fails.
/// </summary>
public sealed class CommandChecker(string command) : IStateChecker
{
    public string Name => command;

    public void EnsureAvailable()
    {
        if (!File.Exists("/bin/sh"))
            throw new CheckerUnavailableException("/bin/sh is missing: a --check command cannot run");
    }

    public CheckOutcome Check(CheckContext context)
    {
        var environment = new Dictionary<string, string>
        {
            ["FASTLOG_DEVICE"] = context.Device,
            ["FASTLOG_STATE"] = context.State.Id,
            ["FASTLOG_CRASH_ENTRY"] = context.Point.Entry.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["FASTLOG_LAST_MARK"] = context.Point.LastMark ?? "",
            ["FASTLOG_WORKDIR"] = context.WorkDirectory,
        };
        ProcessRunner.Result r = ProcessRunner.Run("/bin/sh", ["-c", command], context.Timeout, environment);
        if (r.TimedOut)
            return CheckOutcome.Fail($"timed out after {context.Timeout.TotalSeconds:0.#} s\n{r.Output}");
        return r.ExitCode == 0 ? CheckOutcome.Pass(r.Output) : CheckOutcome.Fail($"exit {r.ExitCode}\n{r.Output}");
    }
}
