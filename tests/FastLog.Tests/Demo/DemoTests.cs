using FastLog.Tests.Guest;

namespace FastLog.Tests.Demo;

/// <summary>
/// The README's first command ends in <c>bin/fastlog demo</c>: it must run as written and every check it makes
/// (kernel log replayed to each mark, a live capture replayed to each mark) must hold.
/// </summary>
public sealed class DemoTests
{
    [Fact]
    public void Demo_runs_both_parts_and_every_check_holds()
    {
        (int exit, string output) = GuestVm.RunHost(FastLogBinary.Locate(), "demo");
        Assert.True(exit == 0, $"fastlog demo exited {exit}:\n{output}");
        Assert.Contains("== 1. A log the kernel wrote ==", output);
        Assert.Contains("== 2. FastLog logs a filesystem itself ==", output);
        // Each replayed mark reports one verdict line; the kernel log has 6 marks, the live capture 5.
        Assert.Equal(11, output.Split('\n').Count(line => line.Contains("as written, fsck clean")));
        Assert.DoesNotContain("FAILED", output);
        Assert.Contains("\nEvery check held.\n", output);
    }
}
