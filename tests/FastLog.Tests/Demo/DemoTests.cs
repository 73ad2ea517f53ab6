using FastLog.Tests.Guest;
using FastLog.Tests.Support;

namespace FastLog.Tests.Demo;

/// <summary>
/// The README's first command ends in <c>bin/fastlog demo</c>: it must run as written and every check it makes must
/// hold. The main tour power-fails ext4 and explores the last cut; the replay tour replays logs to their marks.
/// </summary>
[Collection("fuse")]
public sealed class DemoTests
{
    [Fact]
    public void Demo_power_fails_ext4_explores_the_cut_and_every_check_holds()
    {
        string dir = Directory.CreateTempSubdirectory("fastlog-demo-test.").FullName;
        try
        {
            (int exit, string output) = GuestVm.RunHost(FastlogBinary.Path, "demo", "--dir", dir);
            Assert.True(exit == 0, $"fastlog demo exited {exit}:\n{output}");
            Assert.Contains("== 1. Power-fail a filesystem, live ==", output);
            Assert.Contains("== 2. Every state the last cut could have left ==", output);
            Assert.Equal(2, output.Split('\n').Count(line => line.StartsWith("cycle ") && line.Contains("recovered, verify ok, fsck ok")));
            Assert.Contains("300 states planned", output);
            Assert.Contains("no state failed", output);
            Assert.True(File.Exists(Path.Combine(dir, "explore-report", "report.html")), output);
            Assert.False(Directory.Exists(Path.Combine(dir, "torture")), "the demo leaves only its report behind");
            Assert.Contains("\nEvery check held.\n", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Replay_tour_runs_both_parts_and_every_check_holds()
    {
        (int exit, string output) = GuestVm.RunHost(FastlogBinary.Path, "demo", "--replay-tour");
        Assert.True(exit == 0, $"fastlog demo --replay-tour exited {exit}:\n{output}");
        Assert.Contains("== 1. A log the kernel wrote ==", output);
        Assert.Contains("== 2. FastLog logs a filesystem itself ==", output);
        // Each replayed mark reports one verdict line; the kernel log has 6 marks, the live capture 5.
        Assert.Equal(11, output.Split('\n').Count(line => line.Contains("as written, fsck clean")));
        Assert.DoesNotContain("FAILED", output);
        Assert.Contains("\nEvery check held.\n", output);
    }
}
