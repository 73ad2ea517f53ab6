using System.Diagnostics;

namespace FastLog.Cli.Torture;

/// <summary>The child processes a torture cycle runs: quietly, with their output kept for the report.</summary>
internal static class Tools
{
    public static (int Status, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new TortureException($"cannot run {file}: {e.Message} (scripts/setup installs what torture needs)");
        }
        using (process)
        {
            process.StandardInput.Close();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output + stderr.Result);
        }
    }

    public static string Must(string file, params string[] args)
    {
        (int status, string output) = Run(file, args);
        if (status != 0)
            throw new TortureException($"{file} {string.Join(' ', args)} failed ({status}): {output.Trim()}");
        return output;
    }

    public static string Mkfs(string fs) => fs switch { "xfs" => "mkfs.xfs", "btrfs" => "mkfs.btrfs", _ => "mkfs.ext4" };

    public static string[] MkfsArguments(string fs, string device) => fs switch
    {
        "xfs" => ["-q", "-f", device],
        "btrfs" => ["-q", "-f", device],
        _ => ["-q", "-F", device],
    };

    /// <summary>The filesystem's own checker, read-only: exit 0 when it finds nothing.</summary>
    public static (string Tool, string[] Arguments) Fsck(string fs, string device) => fs switch
    {
        "xfs" => ("xfs_repair", ["-n", device]),
        "btrfs" => ("btrfs", ["check", "--readonly", device]),
        _ => ("e2fsck", ["-fn", device]),
    };
}

internal sealed class TortureException(string message) : Exception(message);
