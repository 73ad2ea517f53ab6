using System.CommandLine;
using FastLog.Cli.Demo;

namespace FastLog.Cli.Commands;

/// <summary><c>fastlog demo</c>: FastLog's main job, end to end, showing every command it runs.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var dir = new Option<string?>("--dir") { Description = "Where to put logs, images and the report (default: a new directory under /var/tmp)" };
        var keep = new Option<bool>("--keep") { Description = "Keep the logs, images and report afterwards (the main tour keeps its report anyway)" };
        var replayTour = new Option<bool>("--replay-tour") { Description = "Instead: the replay tour (a kernel-written log and a live capture, replayed to every mark and checked)" };
        var command = new Command("demo", """
            Show FastLog's main job end to end, printing what it runs:
              1. fastlog torture: ext4 on a logged device with a volatile write cache, a random write + fsync
                 workload, a power cut at a random moment, recovery, and every fsync promise and fsck checked;
              2. fastlog explore: every disk state that cut could have left, checked with fsck and the workload's
                 promises, with an HTML report whose path is printed.
            --replay-tour shows replay instead: a log written by the kernel's dm-log-writes and a live FastLog
            capture, each replayed to every mark and checked against what was written there.
            Needs root, FUSE and loop devices, and the tools scripts/setup installs. Exit status 0 when every check held.
            """);
        command.Options.Add(dir);
        command.Options.Add(keep);
        command.Options.Add(replayTour);
        command.SetAction(parse => parse.GetValue(replayTour) ? RunReplayTour(parse.GetValue(dir), parse.GetValue(keep)) : Run(parse.GetValue(dir), parse.GetValue(keep)));
        return command;
    }

    /// <summary>What the demo needs, said once and plainly instead of failing half way.</summary>
    private static string? Missing()
    {
        if (Environment.UserName != "root")
            return "needs root: it attaches loop devices and mounts filesystems (try: sudo bin/fastlog demo)";
        if (!File.Exists("/dev/fuse") && !File.Exists("/dev/ublk-control"))
            return "needs FUSE (/dev/fuse; modprobe fuse) or ublk (/dev/ublk-control; modprobe ublk_drv) to serve a device";
        if (!File.Exists("/dev/loop-control") && !File.Exists("/dev/ublk-control"))
            return "needs loop devices (/dev/loop-control; modprobe loop)";
        foreach (string tool in (string[])["mkfs.ext4", "e2fsck", "mount"])
            if (!(Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin").Split(':').Any(d => File.Exists(Path.Combine(d, tool))))
                return $"needs {tool} (e2fsprogs, util-linux; scripts/setup installs them)";
        return null;
    }

    private static int Run(string? dir, bool keep)
    {
        if (Missing() is { } missing)
        {
            Console.Error.WriteLine($"fastlog demo: {missing}");
            return 1;
        }
        dir ??= Path.Combine("/var/tmp", $"fastlog-demo.{Environment.ProcessId}.{Path.GetRandomFileName()}");
        Directory.CreateDirectory(dir);
        try
        {
            bool ok = PowerFailTour.Run(Environment.ProcessPath!, dir);
            Console.WriteLine();
            Console.WriteLine(ok ? "Every check held." : "SOME CHECKS FAILED (see above).");
            return ok ? 0 : 1;
        }
        catch (Exception e) when (e is DemoException or Torture.TortureException)
        {
            Console.Error.WriteLine($"fastlog demo: {e.Message}");
            return 1;
        }
        finally
        {
            // The report stays (its path was printed); the device images and logs go unless --keep.
            if (!keep)
                foreach (string sub in Directory.EnumerateDirectories(dir).Where(d => Path.GetFileName(d) != "explore-report"))
                    Directory.Delete(sub, recursive: true);
        }
    }

    private static int RunReplayTour(string? dir, bool keep)
    {
        if (Missing() is { } missing)
        {
            Console.Error.WriteLine($"fastlog demo: {missing}");
            return 1;
        }
        string fastlog = Environment.ProcessPath!;
        dir ??= Directory.CreateTempSubdirectory("fastlog-demo.").FullName;
        Directory.CreateDirectory(dir);
        try
        {
            Console.WriteLine("""
                == 1. A log the kernel wrote ==
                The Linux kernel's dm-log-writes recorded mkfs.ext4 and a few file operations, with marks between them
                (tests/vm/make-demo-log.sh, in a guest kernel). FastLog reads the same format.

                """);
            bool kernelOk = KernelLogTour.Run(fastlog, dir);
            Console.WriteLine("""

                == 2. FastLog logs a filesystem itself ==
                FastLog serves a file as a block device and logs every request; ext4 is made and used on it, with
                a mark after each durable step. Then the same replay-and-check runs on FastLog's own log.

                """);
            bool liveOk = LiveCaptureTour.Run(fastlog, dir);
            Console.WriteLine();
            Console.WriteLine(kernelOk && liveOk ? "Every check held." : "SOME CHECKS FAILED (see above).");
            if (keep) Console.WriteLine($"Logs and images are in {dir}");
            return kernelOk && liveOk ? 0 : 1;
        }
        catch (DemoException e)
        {
            Console.Error.WriteLine($"fastlog demo: {e.Message}");
            return 1;
        }
        finally
        {
            if (!keep) Directory.Delete(dir, recursive: true);
        }
    }
}
