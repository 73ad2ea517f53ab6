using System.Diagnostics;
using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>
/// Kills <c>capture</c> (FUSE frontend, durable log) with SIGTERM, SIGINT or SIGKILL at seeded random moments
/// while a workload writes blocks with O_DIRECT|O_DSYNC and journals each write it saw complete. After every
/// kill: the workload ends by itself (no hung task), the next capture starts (nothing left behind blocks it),
/// the log replays with --scan (readable to its last complete entry), and every acknowledged write is on the
/// replayed image (its block holds that write or a later one). At the end no mount or loop device of the killed
/// captures remains.
/// </summary>
[Collection("fuse")]
public sealed class CaptureKillLoopTests
{
    private const int Kills = 20;
    private static readonly string Fastlog = FastlogBinary.Path;

    [Fact]
    public void TwentySeededKillsUnderLoadLoseNoAcknowledgedWrite()
    {
        using var dir = new TempDirectory();
        var random = new Random(11);
        var pids = new List<int>();
        int acknowledged = 0;
        for (int round = 0; round < Kills; round++)
        {
            string backing = dir.Sparse($"backing{round}.img", 16L << 20);
            string log = dir.File($"run{round}.log");
            string journal = dir.File($"acked{round}");
            File.WriteAllText(journal, "");
            int signal = new[] { 15, 2, 9 }[random.Next(3)];
            using (var capture = Start($"--frontend fuse --backing {backing} --log {log}"))
            {
                string device = capture.StandardOutput.ReadLine() ?? throw new Xunit.Sdk.XunitException($"round {round}: capture printed no device");
                pids.Add(capture.Id);
                using var writer = Start($"{JournalingWriter.Script} {device} {journal} {dir.File($"blk{round}")}", "bash");
                Thread.Sleep(200 + random.Next(600));
                Shell.Check($"kill -{signal} {capture.Id}");
                Assert.True(capture.WaitForExit(30_000), $"round {round}: capture ignored signal {signal}");
                Assert.True(writer.WaitForExit(30_000), $"round {round}: the workload hangs after signal {signal}");
            }
            string image = dir.Sparse($"replayed{round}.img", 16L << 20);
            Shell.Check($"{Fastlog} replay --log {log} --replay {image} --scan");
            acknowledged += JournalingWriter.AssertAcknowledgedWritesPresent(journal, image, $"round {round}, signal {signal}");
        }
        using (var last = Start($"--frontend fuse --backing {dir.Sparse("last.img", 1 << 20)} --no-log"))
        {
            Assert.NotNull(last.StandardOutput.ReadLine()); // the next capture starts; it also clears the killed ones' state
            Shell.Check($"kill -15 {last.Id}");
            Assert.True(last.WaitForExit(30_000));
        }
        Assert.True(acknowledged >= 10 * Kills, $"only {acknowledged} writes were acknowledged in {Kills} rounds: the kills hit no load");
        string mounts = File.ReadAllText("/proc/self/mountinfo");
        foreach (int pid in pids)
            Assert.DoesNotContain($"/run/fastlog/fuse/{pid}.", mounts);
        Assert.DoesNotContain(dir.Path, Shell.Check("losetup -a"));
    }

    private static Process Start(string arguments, string program = "")
    {
        var info = new ProcessStartInfo(program.Length == 0 ? Fastlog : program, program.Length == 0 ? "capture " + arguments : arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = program.Length == 0,
            UseShellExecute = false,
        };
        var process = Process.Start(info)!;
        if (info.RedirectStandardError)
            process.ErrorDataReceived += (_, _) => { };
        if (info.RedirectStandardError)
            process.BeginErrorReadLine();
        return process;
    }
}
