using System.CommandLine;
using System.Runtime.InteropServices;
using FastLog.Backends;
using FastLog.Capture;
using FastLog.Frontends;
using FastLog.Frontends.Fuse;
using FastLog.Frontends.Ublk;
using FastLog.Interop;

namespace FastLog.Cli.Commands;

/// <summary>
/// <c>fastlog capture</c>: serves the backing store as a logged block device in the foreground, prints its path on
/// stdout (one line; everything else goes to stderr), and tears down on SIGINT/SIGTERM.
/// </summary>
internal static class CaptureCommand
{
    private const string UblkControl = "/dev/ublk-control";
    private const string UblkHelp = "modprobe ublk_drv; kernel >= 6.0 built with CONFIG_BLK_DEV_UBLK";

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

        var command = new Command("capture", "Serve BACKING as a block device whose every request is logged; prints the device path");
        command.Options.Add(backing);
        command.Options.Add(log);
        command.Options.Add(frontend);
        command.Options.Add(queues);
        command.Options.Add(depth);
        command.Options.Add(blockSize);
        command.Options.Add(noLog);
        command.Options.Add(durability);
        command.Options.Add(buffered);
        command.SetAction(parse => Run(
            parse.GetValue(backing)!, parse.GetValue(log), parse.GetValue(frontend)!, parse.GetValue(noLog), parse.GetValue(buffered),
            Enum.Parse<LogDurability>(parse.GetValue(durability)!, ignoreCase: true),
            new FrontendOptions
            {
                Queues = parse.GetValue(queues),
                QueueDepth = parse.GetValue(depth),
                LogicalBlockSize = parse.GetValue(blockSize),
            }));
        return command;
    }

    private static int Run(string backingPath, string? logPath, string frontendName, bool noLog, bool buffered,
        LogDurability flushWaitsFor, FrontendOptions options)
    {
        if (!noLog && string.IsNullOrEmpty(logPath))
            return Fail("--log is required (or --no-log to serve without logging)");
        if (noLog && !string.IsNullOrEmpty(logPath))
            return Fail("--log and --no-log exclude each other");
        if (options.Queues < 1 || options.QueueDepth < 1)
            return Fail("--queues and --depth must be at least 1");
        if (!noLog && (Path.GetFullPath(logPath!) == Path.GetFullPath(backingPath) || FileBackend.AreSameFile(logPath!, backingPath)))
            return Fail("the log cannot be the backing store");

        bool ublkPresent = File.Exists(UblkControl);
        if (frontendName == "ublk" && !ublkPresent)
            return Fail($"{UblkControl} is missing: no ublk on this kernel ({UblkHelp}); --frontend fuse works without it");
        bool autoMode = frontendName == "auto";
        if (autoMode)
        {
            frontendName = ublkPresent ? "ublk" : "fuse";
            if (!ublkPresent)
                Console.Error.WriteLine($"fastlog: {UblkControl} not found, using the FUSE frontend (for ublk: {UblkHelp})");
        }

        IBlockBackend backend;
        LoggingBackend? logging = null;
        try
        {
            var file = OpenBacking(backingPath, direct: !buffered, options.LogicalBlockSize);
            try
            {
                backend = noLog ? file : logging = new LoggingBackend(file, CaptureLog.Create(logPath!, options.LogicalBlockSize), flushWaitsFor);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return Fail(e.Message);
        }

        using (backend)
        {
            bool autoSelected = frontendName == "ublk" && autoMode;
            IBlockFrontend device = frontendName == "fuse"
                ? new FuseFrontend(backend, options, message => Console.Error.WriteLine(message))
                : new UblkFrontend(backend, options);
            string path;
            try
            {
                try
                {
                    path = device.Start();
                }
                catch (UblkUnavailableException e) when (autoSelected)
                {
                    // auto: /dev/ublk-control exists but ublk cannot be used (permissions, a kernel without it): FUSE.
                    device.Dispose();
                    Console.Error.WriteLine($"fastlog: ublk unavailable ({e.Message}); using the FUSE frontend");
                    frontendName = "fuse";
                    device = new FuseFrontend(backend, options, message => Console.Error.WriteLine(message));
                    path = device.Start();
                }
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException or ArgumentException)
            {
                device.Dispose();
                return Fail(e.Message);
            }
            using (device)
            {
                using var stop = new ManualResetEventSlim();
                using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
                using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
                MarkServer? marks = null;
                try
                {
                    marks = new MarkServer(path, name => logging?.Mark(name) ?? -95 /* EOPNOTSUPP: --no-log */, sectorSize: options.LogicalBlockSize);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"fastlog: marks unavailable: {e.Message}");
                }
                Console.Out.WriteLine(path);
                Console.Out.Flush();
                Console.Error.WriteLine($"fastlog: serving {backingPath} as {path} ({frontendName}" +
                                        (device is FuseFrontend { UsesDirectIo: false } ? ", loop without direct I/O" : "") +
                                        (device is UblkFrontend { LegacyCommands: true } ? ", legacy ublk command numbers of kernels 6.0-6.3" : "") +
                                        (noLog ? ", not logging" : $", logging to {logPath}") + "); SIGINT or SIGTERM stops");
                WaitHandle.WaitAny([stop.WaitHandle, ((IAsyncResult)device.Completion).AsyncWaitHandle]);
                if (!stop.IsSet)
                    Console.Error.WriteLine($"fastlog: {path} was torn down by the kernel");
                marks?.Dispose();
                device.Stop();
                Console.Error.WriteLine($"fastlog: {path} removed");
            }
        }
        // Disposing the logging backend closed the log: end mark, final nr_entries, durable.
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

    /// <summary>
    /// O_DIRECT unless --buffered-backing: ublk's per-tag buffers are 4 KiB aligned, and FUSE's WRITE payloads and
    /// READ replies land 4096-aligned, so a flush then only commits, instead of writing back every page since the
    /// last one while requests wait behind it. The page cache where O_DIRECT cannot work: a backing whose direct
    /// I/O unit (a block device's logical block size, a file's as its file system reports it) exceeds the device's
    /// (a smaller request would fail with EINVAL), or a file system that refuses O_DIRECT (tmpfs).
    /// </summary>
    private static FileBackend OpenBacking(string path, bool direct, int logicalBlockSize)
    {
        if (direct && DirectIoAlignment.Of(path) is { } alignment && alignment > logicalBlockSize)
        {
            Console.Error.WriteLine($"fastlog: {path} takes O_DIRECT requests in {alignment}-byte units, more than " +
                                    $"--logical-block-size {logicalBlockSize}: using the page cache");
            direct = false;
        }
        if (direct)
        {
            try
            {
                return FileBackend.Open(path, direct: true);
            }
            catch (IOException e) when (File.Exists(path) && e is not DeviceBusyException) // a missing path is reported by the plain open below
            {
                Console.Error.WriteLine($"fastlog: {path}: O_DIRECT refused, using the page cache");
            }
        }
        return FileBackend.Open(path);
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"fastlog capture: {message}");
        return 1;
    }
}
