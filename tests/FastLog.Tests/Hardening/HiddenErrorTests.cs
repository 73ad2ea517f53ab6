using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>
/// A later error never hides an earlier one: a replay that stops at damage and then fails its final fsync, or
/// whose queued writes hit ENOSPC, reports every error, the first first. Real full file systems (tmpfs with a
/// size limit), a real loop device whose writeback fails, the CLI in a child process.
/// </summary>
[Collection("loop")]
public sealed class HiddenErrorTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _small;

    public HiddenErrorTests()
    {
        _small = _dir.File("small");
        Shell.Check($"mkdir {_small} && mount -t tmpfs -o size=1m fastlog-enospc {_small}");
    }

    public void Dispose()
    {
        Shell.Run($"umount {_small}");
        _dir.Dispose();
    }

    /// <summary>2 MiB of writes (more than the 1 MiB file system holds), then a damaged entry (unknown flags).</summary>
    private string LogWithDamageAfterWrites()
    {
        var log = new LogBytes(512);
        for (int i = 0; i < 4; i++)
            log.Write((ulong)i * 1024, LogBytes.Pattern(512 << 10, i));
        log.Entry(0, 1, 0x100, payload: new byte[512]);
        string path = _dir.File("damaged.log");
        File.WriteAllBytes(path, log.ToArray());
        return path;
    }

    /// <summary>Runs a replay that must fail with exactly two errors; returns them in the order printed.</summary>
    private static (string First, string Then) TwoErrors(string arguments)
    {
        (int exit, string output) = Shell.Run($"{FastlogBinary.Path} replay {arguments}");
        Assert.True(exit == 1, $"exit {exit}: {output}");
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 2, output);
        return (lines[0], lines[1]);
    }

    [Fact]
    public void DamageThenAFailedFinalFsyncReportsTheDamageFirst()
    {
        string backing = Path.Combine(_small, "device.img");
        Shell.Check($"truncate -s 8M {backing}");
        using var loop = LoopImage.Attach(backing);
        string log = LogWithDamageAfterWrites();
        (string first, string then) = TwoErrors($"--buffered --log {log} --replay {loop.Device}");

        Assert.Contains($"{log}: entry 4 at byte offset {512 + 4 * (512 + (512 << 10))}: unknown flags 0x100", first);
        Assert.StartsWith($"then: {loop.Device}: fsync failed", then);
    }

    [Fact]
    public void EnospcOfQueuedWritesIsReportedBeforeTheDamageTheReplayStoppedAt()
    {
        string log = LogWithDamageAfterWrites();
        string target = Path.Combine(_small, "target.img");
        File.WriteAllBytes(target, []);

        (string first, string then) = TwoErrors($"--log {log} --replay {target}");

        Assert.Equal($"Error writing data to {target}: No space left on device", first);
        Assert.StartsWith($"then: {log}: entry 4 at byte offset", then);
    }
}
