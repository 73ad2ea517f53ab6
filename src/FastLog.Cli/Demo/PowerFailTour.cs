using FastLog.Cli.Torture;

namespace FastLog.Cli.Demo;

/// <summary>
/// The main job, short: power-fail ext4 under a random write + fsync workload (fastlog torture), then check every
/// disk state that one cut could have left (fastlog explore over the last cycle's log), with an HTML report.
/// </summary>
internal static class PowerFailTour
{
    public static bool Run(string fastlog, string dir)
    {
        Console.WriteLine("""
            == 1. Power-fail a filesystem, live ==
            fastlog torture serves a file as a block device with a volatile write cache and logs every request. Each
            cycle makes ext4 on it, runs a random write + fsync workload that records what every acknowledged fsync
            promised, cuts the power at a random moment (unflushed writes are lost), powers on, lets ext4 recover,
            and checks every promise and fsck.

            """);
        string tortureDir = Path.Combine(dir, "torture");
        var options = new TortureOptions
        {
            Fastlog = fastlog,
            Size = TortureOptions.DefaultSize("ext4"),
            Cycles = 2,
            CycleStress = TimeSpan.FromSeconds(15),
            KeepLogs = 2,
            Directory = tortureDir,
            Seed = (ulong)Random.Shared.NextInt64(),
        };
        Console.WriteLine($"$ {fastlog} torture --fs ext4 --cycles 2 --cycle-stress 15s --dir {tortureDir}");
        var torture = new TortureLoop(options, Console.Out);
        int tortureStatus = torture.Run(CancellationToken.None);
        TortureLoop.CycleResult last = torture.LastCycle ?? throw new DemoException("torture ran no cycle");

        Console.WriteLine("""

            == 2. Every state the last cut could have left ==
            One power cut is one of many outcomes: after any entry of the log, the writes since the last FLUSH may or
            may not have reached the media, in any order. fastlog explore enumerates those states from the cycle's
            log, shows each one to the kernel as a block device (no replay from the start), mounts it (ext4 recovers
            its journal), runs fsck, and checks the workload's promises (the oracle), here for a budget of 300 states.

            """);
        string log = Path.Combine(last.Directory, "log"), journal = Path.Combine(last.Directory, "journal");
        string report = Path.Combine(dir, "explore-report");
        int exploreStatus = Shell.Show(fastlog, "explore", "--log", log, "--check", $"fs,oracle={journal}", "--after-mark", "mkfs",
            "--budget", "300", "--report", report);
        bool ok = tortureStatus == 0 && exploreStatus == 0;
        Console.WriteLine($"""

            == What happened ==
            torture: {torture.CyclesDone} power cuts, {(tortureStatus == 0 ? "ext4 recovered from each with every fsync promise kept and fsck clean" : "a cycle FAILED (above)")}.
            explore: {(exploreStatus == 0 ? "no state the last cut could have left breaks ext4 or a promise" : exploreStatus == 1 ? "some states FAILED: each is listed above, minimized, with the command that writes it as an image" : "explore could not run (above)")}.
            The report: {Path.Combine(report, "report.html")} (open it in a browser: the log's timeline, the crash points, every failure).

            Next:
              {fastlog} torture --fs xfs --duration 2h                # Josef Bacik's test, for hours, bounded disk use
              {fastlog} torture --stress-args '--skip-fsync-every 3'   # a workload that lies about fsync: caught
              {fastlog} explore --log LOG --check fs --strategy prefix,subsets,torn,versions,corrupt
              {fastlog} demo --replay-tour                             # replaying logs to marks, the kernel's and FastLog's
            """);
        return ok;
    }
}
