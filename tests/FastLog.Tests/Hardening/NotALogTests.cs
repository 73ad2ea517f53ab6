using FastLog.LogFormat;
using FastLog.Tests.Fuse;

namespace FastLog.Tests.Hardening;

/// <summary>
/// Paths that are not logs or targets (empty, FIFO, pipe, directory) get one line saying what the path is and why
/// it cannot be used, exit 1, and never a hang or a stack trace. The CLI runs in a child process with a timeout.
/// </summary>
public sealed class NotALogTests : IDisposable
{
    private static readonly string Fastlog = Fuse.Replay.Fastlog;
    private readonly Shell.TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string GoodLog()
    {
        string path = _dir.File("good.log");
        using var writer = LogWriter.Create(path);
        writer.AppendMark("m");
        return path;
    }

    private static void AssertRefused(string command, params string[] words)
    {
        (int exit, string output) = Shell.Run(command, timeoutSeconds: 20); // a hang is a TimeoutException
        Assert.True(exit == 1, $"exit {exit}: {command}\n{output}");
        foreach (string word in words)
            Assert.Contains(word, output);
        Assert.DoesNotContain("Exception", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void AnEmptyPath()
    {
        AssertRefused($"{Fastlog} inspect ''", "the log path is empty");
        AssertRefused($"{Fastlog} replay --log ''", "the log path is empty");
        AssertRefused($"{Fastlog} replay --log {GoodLog()} --replay ''", "the replay target path is empty");
    }

    [Fact]
    public void AFifoWithNoWriterDoesNotHang()
    {
        string fifo = _dir.File("fifo");
        Shell.Check($"mkfifo {fifo}");
        AssertRefused($"{Fastlog} inspect {fifo}", $"{fifo} is a FIFO or pipe, not a regular file or block device");
        AssertRefused($"{Fastlog} replay --log {fifo}", $"{fifo} is a FIFO or pipe");
        AssertRefused($"{Fastlog} replay --log {GoodLog()} --replay {fifo}", $"{fifo} is a FIFO or pipe");
        string backing = _dir.Sparse("backing.img", 1 << 20);
        AssertRefused($"{Fastlog} capture --frontend fuse --backing {backing} --log {fifo}", $"{fifo} is a FIFO or pipe");
    }

    [Fact]
    public void APipeSaysToSaveItToAFileFirst()
    {
        string log = GoodLog();
        AssertRefused($"{Fastlog} inspect <(cat {log})", "is a FIFO or pipe", "save a pipe's output to a file first");
        AssertRefused($"cat {log} | {Fastlog} replay --log /dev/stdin", "is a FIFO or pipe");
    }

    [Fact]
    public void ADirectory()
    {
        AssertRefused($"{Fastlog} inspect {_dir.Path}", $"{_dir.Path} is a directory, not a regular file or block device");
        AssertRefused($"{Fastlog} replay --log {_dir.Path}", "is a directory");
        AssertRefused($"{Fastlog} replay --log {GoodLog()} --replay {_dir.Path}", "is a directory");
    }
}
