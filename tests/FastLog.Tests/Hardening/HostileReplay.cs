using FastLog.Replay;

namespace FastLog.Tests.Hardening;

/// <summary>Runs <see cref="LogReplayer"/> in process on a crafted log and reports what it said.</summary>
internal static class HostileReplay
{
    public static (int ExitCode, string Out, string Err) Run(string log, string? target, bool noDiscard = false)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = new LogReplayer(new ReplayOptions { LogPath = log, ReplayPath = target, NoDiscard = noDiscard }, output, error).Run();
        return (code, output.ToString(), error.ToString());
    }
}
