using System.ComponentModel;
using System.Diagnostics;

namespace FastLog.Replay;

/// <summary>Runs the <c>--fsck</c> command as replay-log's <c>system()</c> does: <c>/bin/sh -c CMD</c>, inheriting stdio.</summary>
public static class FsckHook
{
    /// <summary>True when the command exits 0; false if it fails or cannot be started.</summary>
    public static bool Run(string command)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        try
        {
            using Process process = Process.Start(start) ?? throw new Win32Exception("no process");
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            return false;
        }
    }
}
