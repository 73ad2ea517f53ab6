using FastLog.Cli.Demo;
using System.Diagnostics;
using System.Globalization;

namespace FastLog.Cli.Torture;

/// <summary>
/// Josef Bacik's power-fail test as a loop: per cycle a fresh filesystem on a logged device with a volatile write
/// cache, `fastlog stress` until the power is cut at a random moment, then umount, power on, mount (the filesystem
/// recovers), `fastlog verify` against the stress journal, umount and fsck. Each cycle has its own log; only the
/// last <see cref="TortureOptions.KeepLogs"/> cycles' directories are kept, so disk use is bounded however long it runs.
/// The first failing cycle stops the loop with its log, journal and crash image kept.
/// </summary>
/// <remarks>
/// Every step is a child process (capture serves the device, stress writes the files): the process that serves a
/// FUSE device must never do file I/O on it, and each cycle starting new processes keeps memory flat.
/// </remarks>
internal sealed class TortureLoop(TortureOptions options, TextWriter output)
{
    public sealed record CycleResult(int Number, string Directory, bool Passed, string Summary, string? Failure);

    public CycleResult? LastCycle { get; private set; }
    public int CyclesDone { get; private set; }

    /// <summary>Runs cycles until the duration or cycle count is reached, a cycle fails, or <paramref name="stop"/>; 0 or 1.</summary>
    public int Run(CancellationToken stop)
    {
        System.IO.Directory.CreateDirectory(options.Directory);
        var random = new Random(unchecked((int)options.Seed));
        var clock = Stopwatch.StartNew();
        var kept = new Queue<string>();
        for (int cycle = 1; !stop.IsCancellationRequested; cycle++)
        {
            if (options.Cycles is int n ? cycle > n : clock.Elapsed >= options.Duration)
                break;
            CycleResult result = Cycle(cycle, random);
            LastCycle = result;
            CyclesDone = cycle;
            output.WriteLine(result.Summary);
            output.Flush();
            if (!result.Passed)
            {
                output.WriteLine();
                output.WriteLine($"FAILED in cycle {cycle}: {result.Failure}");
                output.WriteLine($"kept in {result.Directory}: the cycle's log (log), the stress journal (journal), the crash image before recovery (crash.img)");
                output.WriteLine("reproduce and explore the states around this power cut:");
                output.WriteLine($"  {options.Fastlog} explore --log {Path.Combine(result.Directory, "log")} --check fs,oracle={Path.Combine(result.Directory, "journal")} --after-mark mkfs --report {Path.Combine(result.Directory, "explore")}");
                output.WriteLine($"  (mount {Path.Combine(result.Directory, "crash.img")} with -o loop to look at the state the cut left; the explore report prints a `fastlog materialize` command per failing state)");
                return 1;
            }
            kept.Enqueue(result.Directory);
            while (kept.Count > options.KeepLogs)
                System.IO.Directory.Delete(kept.Dequeue(), recursive: true);
        }
        return 0;
    }

    private CycleResult Cycle(int number, Random random)
    {
        string dir = Path.Combine(options.Directory, $"cycle-{number:D4}");
        System.IO.Directory.CreateDirectory(dir);
        string log = Path.Combine(dir, "log"), journal = Path.Combine(dir, "journal"), mnt = Path.Combine(dir, "mnt");
        System.IO.Directory.CreateDirectory(mnt);
        string backing = options.Backing ?? Path.Combine(options.Directory, "backing.img");
        if (options.Backing is null || Shell.Capture("test", "-b", backing).Status != 0)
            using (var f = new FileStream(backing, FileMode.Create, FileAccess.Write))
                f.SetLength(options.Size); // a fresh zeroed device: each cycle's log then replays from zeros
        int seed = random.Next();
        var clock = Stopwatch.StartNew();
        var captureErrors = new System.Text.StringBuilder();
        using Process capture = StartCapture(backing, log, seed, captureErrors);
        string device = capture.StandardOutput.ReadLine() ?? throw new TortureException($"fastlog capture exited before serving a device: {Wait(capture, captureErrors)}");
        string? failure = null;
        string details = "";
        bool mounted = false;
        try
        {
            Shell.Must(FilesystemTools.Mkfs(options.Filesystem), FilesystemTools.MkfsArguments(options.Filesystem, device));
            Shell.Must(options.Fastlog, "mark", device, "mkfs");
            Shell.Must("mount", device, mnt);
            mounted = true;
            double cutAfter = 1 + random.NextDouble() * Math.Max(0.5, options.CycleStress.TotalSeconds - 1);
            using Process stress = Process.Start(new ProcessStartInfo(options.Fastlog,
                [.. (string[])["stress", "--dir", mnt, "--journal", journal, "--duration", $"{options.CycleStress.TotalSeconds:0}s",
                    "--seed", seed.ToString(CultureInfo.InvariantCulture), "--mark-device", device], .. options.StressArguments])
                { RedirectStandardError = true, RedirectStandardOutput = true })!;
            Task<string> stressOut = stress.StandardError.ReadToEndAsync();
            _ = stress.StandardOutput.ReadToEndAsync();
            stress.WaitForExit(TimeSpan.FromSeconds(cutAfter));
            string cut = Shell.Must(options.Fastlog, "powerfail", device).Trim();
            if (!stress.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                stress.Kill(entireProcessTree: true);
                throw new TortureException("fastlog stress did not stop within 60 s of the power cut");
            }
            string stressLast = stressOut.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
            if (stress.ExitCode is not (0 or 3))
                throw new TortureException($"fastlog stress failed ({stress.ExitCode}): {stressOut.Result.Trim()}");
            if (Shell.Capture("umount", mnt).Status != 0)
                Shell.Must("umount", "-l", mnt);
            mounted = false;
            Shell.Must(options.Fastlog, "poweron", device);
            File.Copy(backing, Path.Combine(dir, "crash.img"), overwrite: true);
            details = $"power cut after {cutAfter:0.0} s ({cut}); {stressLast.Replace("fastlog stress: ", "")}";
            failure = Recover(device, mnt, journal, out mounted);
        }
        finally
        {
            if (mounted) Shell.Capture("umount", "-l", mnt);
            Stop(capture);
        }
        if (failure is null)
            File.Delete(Path.Combine(dir, "crash.img"));
        string verdict = failure is null ? "recovered, verify ok, fsck ok" : "FAILED";
        return new CycleResult(number, dir, failure is null, $"cycle {number} on {device}: {details}; {verdict} ({clock.Elapsed.TotalSeconds:0.0} s)", failure);
    }

    /// <summary>Mount (the filesystem recovers), verify the stress promises, umount, fsck. Null when all held.</summary>
    private string? Recover(string device, string mnt, string journal, out bool mounted)
    {
        mounted = false;
        (int status, string text) = Shell.Capture("mount", device, mnt);
        if (status != 0)
            return $"mount after the power cut failed: {text.Trim()}";
        mounted = true;
        (int verify, string verifyText) = Shell.Capture(options.Fastlog, "verify", "--dir", mnt, "--journal", journal);
        Shell.Must("umount", mnt);
        mounted = false;
        if (verify != 0)
            return $"fastlog verify (exit {verify}): {Trim(verifyText)}";
        (string tool, string[] arguments) = FastLog.Explorer.Checkers.FilesystemChecker.ReadOnlyCheck(options.Filesystem, device);
        (int fsck, string fsckText) = Shell.Capture(tool, arguments);
        return fsck == 0 ? null : $"{tool} {string.Join(' ', arguments)} (exit {fsck}): {Trim(fsckText)}";
    }

    /// <summary>capture's stderr is drained as it comes (a full pipe would stall the device) and kept for errors.</summary>
    private Process StartCapture(string backing, string log, int seed, System.Text.StringBuilder errors)
    {
        Process capture;
        try
        {
            capture = Process.Start(new ProcessStartInfo(options.Fastlog,
                ["capture", "--backing", backing, "--log", log, "--power-fail", "manual", "--keep", $"random:{seed}"])
                { RedirectStandardOutput = true, RedirectStandardError = true })!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new TortureException($"cannot run {options.Fastlog}: {e.Message}");
        }
        capture.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) if (errors.Length < 1 << 16) errors.AppendLine(e.Data); };
        capture.BeginErrorReadLine();
        return capture;
    }

    private static string Wait(Process process, System.Text.StringBuilder errors)
    {
        process.WaitForExit();
        lock (errors) return errors.ToString().Trim();
    }

    private static void Stop(Process capture)
    {
        if (capture.HasExited) return;
        Shell.Capture("kill", "-TERM", capture.Id.ToString(CultureInfo.InvariantCulture));
        if (!capture.WaitForExit(TimeSpan.FromSeconds(60)))
            capture.Kill();
        capture.WaitForExit();
    }

    private static string Trim(string text)
    {
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join("\n  ", lines.Take(12)) + (lines.Length > 12 ? $"\n  ... ({lines.Length - 12} more lines)" : "");
    }
}
