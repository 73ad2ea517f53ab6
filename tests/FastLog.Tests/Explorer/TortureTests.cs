using FastLog.Tests.Support;

namespace FastLog.Tests.Explorer;

/// <summary>`fastlog torture` natively, on FastLog's FUSE device: power-failed cycles recover on each filesystem, and a
/// workload that records promises it never fsync'd is caught, with its log kept for explore.</summary>
[Collection("fuse")]
public class TortureTests
{
    private static readonly string Fastlog = FastlogBinary.Path;

    [Theory]
    [InlineData("ext4")]
    [InlineData("xfs")]
    [InlineData("btrfs")]
    public void Power_failed_cycles_recover_with_every_promise_kept(string fs)
    {
        using var dir = new TempDirectory();
        (int exit, string output) = Shell.Run($"{Fastlog} torture --fs {fs} --cycles 2 --cycle-stress 3s --keep-logs 1 --seed 11 --dir {dir.File("t")}", 300);
        Assert.True(exit == 0, output);
        Assert.Equal(2, output.Split('\n').Count(l => l.StartsWith("cycle ") && l.Contains(" on /dev/loop") && l.Contains("power cut after") && l.Contains("recovered, verify ok, fsck ok")));
        // Disk use is bounded: only the last cycle's directory is left, with its log and journal.
        string[] cycles = Directory.GetDirectories(dir.File("t"), "cycle-*");
        Assert.Equal([Path.Combine(dir.File("t"), "cycle-0002")], cycles);
        Assert.True(File.Exists(Path.Combine(cycles[0], "log")) && File.Exists(Path.Combine(cycles[0], "journal")));
        Assert.False(File.Exists(Path.Combine(cycles[0], "crash.img")));
        Assert.True(FastlogReplay.HasMark(Path.Combine(cycles[0], "log"), "powerfail"));
    }

    [Fact]
    public void A_workload_that_skips_fsync_is_caught_and_its_cycle_kept_for_explore()
    {
        using var dir = new TempDirectory();
        (int exit, string output) = Shell.Run($"{Fastlog} torture --cycles 3 --cycle-stress 3s --seed 5 --dir {dir.File("t")} --stress-args '--skip-fsync-every 3'", 300);
        Assert.True(exit == 1, output);
        Assert.Contains("FAILED in cycle 1: fastlog verify", output);
        Assert.Contains("MISMATCH stress-", output);
        string cycle = dir.File("t/cycle-0001");
        Assert.True(File.Exists(Path.Combine(cycle, "crash.img")));
        Assert.Contains($"explore --log {cycle}/log --check fs,oracle={cycle}/journal", output);
    }
}
