using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>
/// Paths that are not logs or targets (empty, FIFO, pipe, directory) get one line saying what the path is and why
/// it cannot be used, exit 1, and never a hang or a stack trace. The CLI runs in a child process with a timeout.
/// </summary>
public sealed class NotALogTests : IDisposable
{
    private static readonly string Fastlog = FastlogBinary.Path;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string GoodLog()
    {
        string path = _dir.File("good.log");
        using var writer = LogWriter.Create(path);
        writer.AppendMark("m");
        return path;
    }

    [Fact]
    public void AnEmptyPath()
    {
        Refusal.Assert($"{Fastlog} inspect ''", "the log path is empty");
        Refusal.Assert($"{Fastlog} replay --log ''", "the log path is empty");
        Refusal.Assert($"{Fastlog} replay --log {GoodLog()} --replay ''", "the replay target path is empty");
    }

    [Fact]
    public void AFifoWithNoWriterDoesNotHang()
    {
        string fifo = _dir.File("fifo");
        Shell.Check($"mkfifo {fifo}");
        Refusal.Assert($"{Fastlog} inspect {fifo}", $"{fifo} is a FIFO or pipe, not a regular file or block device");
        Refusal.Assert($"{Fastlog} replay --log {fifo}", $"{fifo} is a FIFO or pipe");
        Refusal.Assert($"{Fastlog} replay --log {GoodLog()} --replay {fifo}", $"{fifo} is a FIFO or pipe");
        string backing = _dir.Sparse("backing.img", 1 << 20);
        Refusal.Assert($"{Fastlog} capture --frontend fuse --backing {backing} --log {fifo}", $"{fifo} is a FIFO or pipe");
    }

    [Fact]
    public void APipeSaysToSaveItToAFileFirst()
    {
        string log = GoodLog();
        Refusal.Assert($"{Fastlog} inspect <(cat {log})", "is a FIFO or pipe", "save a pipe's output to a file first");
        Refusal.Assert($"cat {log} | {Fastlog} replay --log /dev/stdin", "is a FIFO or pipe");
    }

    [Fact]
    public void ADirectory()
    {
        Refusal.Assert($"{Fastlog} inspect {_dir.Path}", $"{_dir.Path} is a directory, not a regular file or block device");
        Refusal.Assert($"{Fastlog} replay --log {_dir.Path}", "is a directory");
        Refusal.Assert($"{Fastlog} replay --log {GoodLog()} --replay {_dir.Path}", "is a directory");
    }
}
