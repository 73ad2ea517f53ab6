using System.Diagnostics;

namespace FastLog.Cli.Demo;

/// <summary>Runs the commands the demo shows (printing each as a user would type it) and those torture runs quietly.</summary>
internal static class Shell
{
    /// <summary>Prints "$ command" and runs it with the console inherited; returns its exit status.</summary>
    public static int Show(string file, params string[] args)
    {
        Console.WriteLine($"$ {Quote(file, args)}");
        return Start(file, args, capture: false).Status;
    }

    /// <summary>Runs quietly; returns exit status and output (stdout then stderr).</summary>
    public static (int Status, string Output) Capture(string file, params string[] args) => Start(file, args, capture: true);

    /// <summary>Runs quietly and throws with the tool's own words if it fails.</summary>
    public static string Must(string file, params string[] args)
    {
        (int status, string output) = Capture(file, args);
        if (status != 0)
            throw new DemoException($"{Quote(file, args)} failed ({status}): {output.Trim()}");
        return output;
    }

    private static (int Status, string Output) Start(string file, string[] args, bool capture)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardOutput = capture, RedirectStandardError = capture, RedirectStandardInput = capture };
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new DemoException($"cannot run {file}: {e.Message} (scripts/setup installs what the demo needs)");
        }
        using (process)
        {
            if (capture)
                process.StandardInput.Close();
            // stderr is drained while stdout is read: a tool that fills the stderr pipe would otherwise never finish.
            Task<string>? stderr = capture ? process.StandardError.ReadToEndAsync() : null;
            string output = capture ? process.StandardOutput.ReadToEnd() + stderr!.Result : "";
            process.WaitForExit();
            return (process.ExitCode, output);
        }
    }

    private static string Quote(string file, string[] args) =>
        string.Join(' ', new[] { file }.Concat(args).Select(a => a.Contains(' ') ? $"'{a}'" : a));
}

internal sealed class DemoException(string message) : Exception(message);
