using System.CommandLine;
using System.Runtime.InteropServices;
using FastLog.Backends;
using FastLog.Capture;
using FastLog.Devices;
using FastLog.Frontends;

namespace FastLog.Cli.Commands;

/// <summary>
/// <c>fastlog capture</c>: serves the backing store as a logged block device in the foreground, prints its path on
/// stdout (one line; everything else goes to stderr), and tears down on SIGINT/SIGTERM.
/// </summary>
internal static class CaptureCommand
{
    public static Command Create()
    {
        var backing = new Option<string>("--backing") { Description = "Backing store: a regular file (its size is the device's) or a block device", Required = true };
        var log = new Option<string?>("--log") { Description = "Log file or device (dm-log-writes v1); required unless --no-log. Best on another disk than the backing: on the same disk every flush also waits for the log's write and flush (about half the fsyncs per second at fsync=1, perf/RESULTS.md)" };
        var frontend = new Option<string>("--frontend") { Description = "ublk, fuse (FUSE file + loop device) or auto (ublk when /dev/ublk-control exists)", DefaultValueFactory = _ => "auto" };
        frontend.AcceptOnlyFromAmong("ublk", "fuse", "auto");
        var queues = new Option<int>("--queues") { Description = "Queues (ublk) / at least this many FUSE worker threads", DefaultValueFactory = _ => 1 };
        var depth = new Option<int>("--depth") { Description = "Queue depth (ublk) / FUSE max_background", DefaultValueFactory = _ => 64 };
        var blockSize = new Option<int>("--logical-block-size") { Description = "512 or 4096; also the log's sector size", DefaultValueFactory = _ => 512 };
        blockSize.AcceptOnlyFromAmong("512", "4096");
        var noLog = new Option<bool>("--no-log") { Description = "Serve the backing store without logging (for comparisons)" };
        var durability = new Option<string>("--log-durability")
        {
            Description = "What a FLUSH/FUA waits for in the log: 'durable' (fdatasync'd, or on a block device written with " +
                          "FUA: the log survives a host crash; two device flushes per flush), 'written' (written with O_DIRECT: " +
                          "survives FastLog being killed, not a host crash) or 'ordered' (nothing, as the kernel's dm-log-writes: " +
                          "the FLUSH is in the log order and the log is written in the background; complete once capture stops " +
                          "cleanly, for performance comparisons)",
            DefaultValueFactory = _ => "durable",
        };
        durability.AcceptOnlyFromAmong("durable", "written", "ordered");
        var buffered = new Option<bool>("--buffered-backing")
        {
            Description = "Open the backing store through the page cache. By default it is opened O_DIRECT (both frontends hand " +
                          "over aligned buffers), so a FLUSH only commits instead of first writing back every page dirtied " +
                          "since the last one while requests wait behind it. O_DIRECT also needs each request aligned to the " +
                          "backing's own logical block size: a backing with a larger one than --logical-block-size (a 512 device " +
                          "over a 4096-byte-sector disk, or over a file on one) is served through the page cache, with a " +
                          "message, as is a file system that refuses O_DIRECT (tmpfs)",
        };

        var powerFail = new Option<string?>("--power-fail")
        {
            Description = "Arm power-fail injection: a volatile write cache (--cache-size) sits under the log, and the power fails " +
                          "at the trigger: 'manual' (only by 'fastlog powerfail DEVICE'), 'after-writes=N' (the Nth WRITE completes, " +
                          "the next fails), 'after-flushes=N', 'at-mark=NAME' (right after that mark, each time it is inserted), " +
                          "'after-seconds=S' (S seconds after the device is up), 'random=SEED[:MAX]' (after-writes=N, N drawn " +
                          "from 1..MAX by SEED, MAX 10000). From the cut every request fails with EIO and the backing holds the " +
                          "crash state: what completed FLUSHes and FUA writes made durable, plus what --keep keeps of the rest. " +
                          "The log gets marks 'powerfail', 'powerfail-keep=POLICY cached=N kept=K' and 'powerfail-kept:START+COUNT,...' " +
                          "(log sectors), and 'writeback:...' when a full cache writes back early. 'fastlog poweron DEVICE' restores " +
                          "service. Needs --log",
            HelpName = "TRIGGER",
        };
        var keep = new Option<string?>("--keep")
        {
            Description = "What a power cut keeps of the cached (unflushed) writes: 'none', 'all', or 'random[:SEED]' (the default: " +
                          "each cached logical block kept with probability 1/2, so multi-block writes tear at logical-block boundaries, " +
                          "the device's atomic unit; without SEED one is drawn and logged). 'fastlog powerfail --keep' overrides it",
            HelpName = PowerFailKeep.Syntax,
        };
        var cacheSize = new Option<string?>("--cache-size")
        {
            Description = "Size of the volatile write cache with --power-fail (bytes, or with K, M, G; default 256M, at least 4M). " +
                          "When it is full, its oldest blocks are written back and count as persisted",
            HelpName = "SIZE",
        };

        var command = new Command("capture", """
            Serve BACKING as a block device whose every request is logged; prints the device path (one line on stdout).
            Exit codes: 0 stopped cleanly (SIGINT/SIGTERM or the kernel removed the device), 1 bad input, setup failure or a
            failed log. With --power-fail, drive the cut and the restart with 'fastlog powerfail DEVICE' / 'fastlog poweron DEVICE'.
            """);
        command.Options.Add(backing);
        command.Options.Add(log);
        command.Options.Add(frontend);
        command.Options.Add(queues);
        command.Options.Add(depth);
        command.Options.Add(blockSize);
        command.Options.Add(noLog);
        command.Options.Add(durability);
        command.Options.Add(buffered);
        command.Options.Add(powerFail);
        command.Options.Add(keep);
        command.Options.Add(cacheSize);
        command.SetAction(parse =>
        {
            if (!TryPowerFailOptions(parse.GetValue(powerFail), parse.GetValue(keep), parse.GetValue(cacheSize), out PowerFailOptions? powerFailOptions))
                return 1;
            return Run(
                parse.GetValue(backing)!, parse.GetValue(log), parse.GetValue(frontend)!, parse.GetValue(noLog), parse.GetValue(buffered),
                Enum.Parse<LogDurability>(parse.GetValue(durability)!, ignoreCase: true),
                parse.GetValue(blockSize),
                new FrontendOptions
                {
                    Queues = parse.GetValue(queues),
                    QueueDepth = parse.GetValue(depth),
                },
                powerFailOptions);
        });
        return command;
    }

    private static bool TryPowerFailOptions(string? triggerText, string? keepText, string? cacheText, out PowerFailOptions? options)
    {
        options = null;
        if (triggerText is null)
        {
            if (keepText is null && cacheText is null)
                return true;
            Fail("--keep and --cache-size need --power-fail (--power-fail manual arms it without a trigger)");
            return false;
        }
        if (!PowerFailTrigger.TryParse(triggerText, out PowerFailTrigger trigger, out string? error))
        {
            Fail($"--power-fail: {error}");
            return false;
        }
        PowerFailKeep keep = new(PowerFailKeepKind.Random);
        if (keepText is not null && !PowerFailKeep.TryParse(keepText, out keep, out error))
        {
            Fail($"--keep: {error}");
            return false;
        }
        long cacheBytes = VolatileCacheBackend.DefaultCapacity;
        if (cacheText is not null && !TryParseSize(cacheText, out cacheBytes))
        {
            Fail($"--cache-size: '{cacheText}' is not a size (bytes, or a number with K, M or G)");
            return false;
        }
        if (cacheBytes < VolatileCacheBackend.MinimumCapacity)
        {
            Fail($"--cache-size: {cacheText} is below the minimum of {VolatileCacheBackend.MinimumCapacity >> 20}M");
            return false;
        }
        options = new PowerFailOptions(trigger, keep, cacheBytes);
        return true;
    }

    private static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        int shift = text.Length == 0 ? 0 : char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 0 };
        string digits = shift == 0 ? text : text[..^1];
        if (!long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n)
            || n > long.MaxValue >> shift)
            return false;
        bytes = n << shift;
        return true;
    }

    private static int Run(string backingPath, string? logPath, string frontendName, bool noLog, bool buffered,
        LogDurability flushWaitsFor, int logicalBlockSize, FrontendOptions options, PowerFailOptions? powerFail)
    {
        if (!noLog && string.IsNullOrEmpty(logPath))
            return Fail(powerFail is null ? "--log is required (or --no-log to serve without logging)" : "--power-fail needs a log (the log is what reproduces the crash)");
        if (noLog && !string.IsNullOrEmpty(logPath))
            return Fail("--log and --no-log exclude each other");
        var deviceOptions = new DeviceOptions
        {
            Backing = backingPath,
            Log = noLog ? null : logPath,
            Frontend = Enum.Parse<FrontendKind>(frontendName, ignoreCase: true),
            LogicalBlockSize = logicalBlockSize,
            FrontendOptions = options,
            Durability = flushWaitsFor,
            BufferedBacking = buffered,
            PowerFail = powerFail,
        };
        LoggedDevice device;
        try
        {
            device = LoggedDevice.Open(deviceOptions, message => Console.Error.WriteLine(message));
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or InvalidOperationException)
        {
            return Fail(e.Message);
        }
        LoggingBackend? logging = device.Logging;
        string path = device.Path!;
        using (device)
        {
            using var stop = new ManualResetEventSlim();
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
            MarkServer? marks = null;
            try
            {
                marks = new MarkServer(path, device.Mark,
                    control: logging is null ? null : request => PowerControl.Handle(logging, request), sectorSize: logicalBlockSize);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"fastlog: marks unavailable: {e.Message}");
            }
            if (powerFail is not null)
                logging!.PowerFailed += cut => Console.Error.WriteLine(
                    $"fastlog: power failed on {path}: {PowerControl.Describe(cut, logicalBlockSize)}; every request fails " +
                    $"with EIO until 'fastlog poweron {path}'");
            using Timer? timer = powerFail?.Trigger is { Kind: PowerFailTriggerKind.AfterSeconds } timed
                ? new Timer(_ => logging!.PowerFail(), null, TimeSpan.FromSeconds(timed.Seconds), Timeout.InfiniteTimeSpan)
                : null;
            Console.Out.WriteLine(path);
            Console.Out.Flush();
            Console.Error.WriteLine($"fastlog: serving {backingPath} as {path} ({device.FrontendName}{device.FrontendNotes}" +
                                    (noLog ? ", not logging" : $", logging to {logPath}") +
                                    (powerFail is null ? "" : $", power fails at {powerFail.Trigger.Text} keeping {powerFail.Keep}, cache {powerFail.CacheBytes >> 20} MiB") +
                                    "); SIGINT or SIGTERM stops");
            WaitHandle.WaitAny([stop.WaitHandle, ((IAsyncResult)device.Frontend!.Completion).AsyncWaitHandle]);
            if (!stop.IsSet)
                Console.Error.WriteLine($"fastlog: {path} was torn down by the kernel");
            marks?.Dispose();
            device.Frontend.Stop();
            Console.Error.WriteLine($"fastlog: {path} removed");
        }
        // Disposing the device closed the log: end mark, final nr_entries, durable.
        if (logging is not null)
        {
            if (logging.FirstBackingFailure is { } backingFailure)
                return Fail($"the backing store {backingPath} failed {logging.BackingFailures} request(s), each failed on the device; the first: {backingFailure}");
            if (logging.Log.Failure != 0)
                return Fail($"the log failed: {logging.Log.FailureReason ?? System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(-logging.Log.Failure)}");
            Console.Error.WriteLine($"fastlog: log {logPath} closed, {logging.Log.EntriesDurable} entries");
        }
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"fastlog capture: {message}");
        return 1;
    }
}
