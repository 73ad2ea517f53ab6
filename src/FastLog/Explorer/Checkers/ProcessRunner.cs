using System.Diagnostics;
using System.Text;

namespace FastLog.Explorer.Checkers;

/// <summary>Runs a checker's child process with a timeout, keeping at most <see cref="MaxOutput"/> bytes of its output.</summary>
internal static class ProcessRunner
{
    public const int MaxOutput = 64 << 10;

    public readonly record struct Result(int ExitCode, bool TimedOut, string Output);

    public static Result Run(string file, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments) info.ArgumentList.Add(a);
        if (environment is not null)
            foreach ((string k, string v) in environment) info.Environment[k] = v;
        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        DataReceivedEventHandler collect = (_, e) =>
        {
            if (e.Data is null) return;
            lock (output)
                if (output.Length < MaxOutput) output.AppendLine(e.Data);
        };
        process.OutputDataReceived += collect;
        process.ErrorDataReceived += collect;
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new Result(127, false, $"{file}: {e.Message}");
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        bool exited = process.WaitForExit(timeout);
        if (!exited)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* exited meanwhile */ }
        }
        process.WaitForExit();
        lock (output)
            return new Result(exited ? process.ExitCode : -1, !exited, output.ToString());
    }

    /// <summary>Whether <paramref name="tool"/> is found on PATH.</summary>
    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, tool)));
}
