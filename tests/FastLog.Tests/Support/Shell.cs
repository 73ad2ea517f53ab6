using System.Diagnostics;
using System.Text;

namespace FastLog.Tests.Support;

/// <summary>Runs real tools in child processes (never I/O on a FUSE-backed device from the serving process).</summary>
internal static class Shell
{
    public static (int Exit, string Output) Run(string script, int timeoutSeconds = 120)
    {
        var info = new ProcessStartInfo("bash", ["-c", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"timed out after {timeoutSeconds} s: {script}\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    public static string Check(string script, int timeoutSeconds = 120)
    {
        (int exit, string output) = Run(script, timeoutSeconds);
        Assert.True(exit == 0, $"exit {exit}: {script}\n{output}");
        return output;
    }
}
