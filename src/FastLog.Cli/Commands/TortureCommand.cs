using System.CommandLine;
using FastLog.Cli.Torture;

namespace FastLog.Cli.Commands;

/// <summary><c>fastlog torture</c>: Josef Bacik's power-fail test as one command, for hours.</summary>
internal static class TortureCommand
{
    private static readonly Option<string> Fs = new("--fs") { Description = "The filesystem to torture", DefaultValueFactory = _ => "ext4" };
    private static readonly Option<string?> Backing = new("--backing") { Description = "The device's backing: a file (made anew, zeroed, each cycle) or a block device. Default: a sparse file in --dir" };
    private static readonly Option<string?> Size = new("--size") { Description = "Device size for a file backing (e.g. 128M; default 128M for ext4, 320M for xfs and btrfs)" };
    private static readonly Option<string> Duration = new("--duration") { Description = "How long to run (30s, 10m, 2h), unless --cycles", DefaultValueFactory = _ => "2h" };
    private static readonly Option<int?> Cycles = new("--cycles") { Description = "Run exactly this many power-fail cycles" };
    private static readonly Option<string> CycleStress = new("--cycle-stress") { Description = "Stress time per cycle; the power is cut at a random moment within it", DefaultValueFactory = _ => "20s" };
    private static readonly Option<int> KeepLogs = new("--keep-logs") { Description = "Cycles whose directories (log, journal) are kept; older ones are deleted, so disk use stays bounded", DefaultValueFactory = _ => 3 };
    private static readonly Option<string?> Dir = new("--dir") { Description = "Where cycles live (default: a new directory under /var/tmp)" };
    private static readonly Option<ulong?> Seed = new("--seed") { Description = "Seeds the cut times, the kept blocks and the stress workloads (default: random, printed)" };
    private static readonly Option<string?> StressArgs = new("--stress-args") { Description = "More options for fastlog stress, e.g. '--skip-fsync-every 3' to watch a broken workload get caught" };

    public static Command Create()
    {
        Fs.AcceptOnlyFromAmong("ext4", "xfs", "btrfs");
        var command = new Command("torture", """
            Josef Bacik's power-fail test, as one command that runs for hours. Each cycle: a fresh filesystem on a
            logged device with a volatile write cache (fastlog capture --power-fail), fastlog stress (random writes
            + fsync, every acknowledged fsync recorded as a promise), a power cut at a random moment (unflushed
            writes lost, some kept), umount, power on, mount (the filesystem recovers), fastlog verify (every file
            holds what its last fsync promised) and fsck. At the first failure it stops, keeps that cycle's log,
            journal and crash image, and prints the commands that explore and reproduce it.
            Needs root. Exit status: 0 every cycle held, 1 a cycle failed, 2 bad usage or a broken setup.
            Example:
              fastlog torture --fs xfs --duration 2h
            """);
        foreach (Option o in (Option[])[Fs, Backing, Size, Duration, Cycles, CycleStress, KeepLogs, Dir, Seed, StressArgs])
            command.Options.Add(o);
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        string fs = parse.GetValue(Fs)!;
        if (Environment.UserName != "root")
            return Usage("needs root: it attaches loop devices and mounts filesystems");
        if (!CliNumbers.TryDuration(parse.GetValue(Duration)!, out TimeSpan duration) || duration <= TimeSpan.Zero)
            return Usage($"--duration {parse.GetValue(Duration)}: want a duration like 30s, 10m or 2h");
        if (!CliNumbers.TryDuration(parse.GetValue(CycleStress)!, out TimeSpan cycleStress) || cycleStress < TimeSpan.FromSeconds(2))
            return Usage($"--cycle-stress {parse.GetValue(CycleStress)}: want at least 2s");
        long size = TortureOptions.DefaultSize(fs);
        if (parse.GetValue(Size) is { } sizeText && (!CliNumbers.TrySize(sizeText, out size) || size < 16L << 20))
            return Usage($"--size {sizeText}: want a size of at least 16M, like 128M");
        if (parse.GetValue(Cycles) is < 1)
            return Usage("--cycles must be at least 1");
        if (parse.GetValue(KeepLogs) < 1)
            return Usage("--keep-logs must be at least 1 (the last cycle's log is what a failure leaves you)");
        ulong seed = parse.GetValue(Seed) ?? (ulong)Random.Shared.NextInt64();
        string dir = parse.GetValue(Dir) ?? Path.Combine("/var/tmp", $"fastlog-torture.{Environment.ProcessId}.{Path.GetRandomFileName()}");
        var options = new TortureOptions
        {
            Fastlog = Environment.ProcessPath!,
            Filesystem = fs,
            Backing = parse.GetValue(Backing),
            Size = size,
            Duration = duration,
            Cycles = parse.GetValue(Cycles),
            CycleStress = cycleStress,
            KeepLogs = parse.GetValue(KeepLogs),
            Directory = dir,
            Seed = seed,
            StressArguments = parse.GetValue(StressArgs)?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [],
        };
        Console.WriteLine($"fastlog torture: {fs} on {options.Backing ?? $"a {size >> 20} MiB file"}, " +
                          (options.Cycles is int n ? $"{n} cycles" : $"for {duration}") + $", seed {seed}, in {dir}");
        using var stop = new CancellationTokenSource();
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        var loop = new TortureLoop(options, Console.Out);
        try
        {
            int status = loop.Run(stop.Token);
            if (status == 0)
                Console.WriteLine($"fastlog torture: {loop.CyclesDone} cycles, every one recovered with its promises kept" +
                                  (loop.LastCycle is { } last ? $"; the last cycles' logs are in {dir}" : ""));
            return status;
        }
        catch (Exception e) when (e is TortureException or Demo.DemoException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"fastlog torture: {e.Message}");
            return 2;
        }
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"fastlog torture: {message}");
        return 2;
    }
}
