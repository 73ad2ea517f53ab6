using System.Diagnostics;

namespace FastLog.Tests.Support;

/// <summary>`fastlog capture ARGS` as a child process: waits for the device path it prints, stops it by signal.</summary>
internal sealed class CaptureProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _stderr = new();

    public CaptureProcess(string arguments)
    {
        var info = new ProcessStartInfo(FastlogBinary.Path, "capture " + arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(info)!;
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result is null)
        {
            Kill();
            throw new Xunit.Sdk.XunitException($"capture printed no device: {Stderr}");
        }
        Device = line.Result;
    }

    public static string SocketFor(string device) => FastLog.Capture.MarkServer.PathFor(device)!;

    public string Device { get; }
    public int Pid => _process.Id;

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public int Terminate(int signal = 15, int timeoutSeconds = 30)
    {
        Shell.Check($"kill -{signal} {_process.Id}");
        if (!_process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            Kill();
            throw new TimeoutException($"capture did not stop on signal {signal}: {Stderr}");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    private void Kill()
    {
        try { _process.Kill(); } catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }
}
