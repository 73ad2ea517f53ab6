using System.CommandLine;
using System.Runtime.InteropServices;
using FastLog.Backends;
using FastLog.Capture;
using FastLog.Frontends;
using FastLog.Frontends.Ublk;

namespace FastLog.Cli.Commands;

/// <summary>
/// Hidden developer command: serves a backing file or device over ublk in the foreground until SIGINT/SIGTERM,
/// without logging or, with --log, through a <see cref="LoggingBackend"/>. The guest tests drive the ublk frontend through it; `fastlog capture --frontend ublk`
/// is the user-facing entry point and makes the same single call, <c>new UblkFrontend(backend, options).Start()</c>.
/// </summary>
internal static class UblkServeCommand
{
    public static Command Create()
    {
        var backing = new Option<string>("--backing") { Description = "file or block device to serve", Required = true };
        var log = new Option<string?>("--log") { Description = "log every request to this dm-log-writes log" };
        var direct = new Option<bool>("--direct")
        {
            Description = "open the backing with O_DIRECT (requests are aligned to the logical block size, which must be ≥ the backing's)",
        };
        var queues = new Option<int>("--queues") { Description = "hardware queues", DefaultValueFactory = _ => 1 };
        var depth = new Option<int>("--depth") { Description = "queue depth", DefaultValueFactory = _ => 64 };
        var blockSize = new Option<int>("--logical-block-size") { Description = "512 or 4096", DefaultValueFactory = _ => 512 };
        var command = new Command("ublk-serve", "serve a backing store over ublk without logging (developer tool)")
        {
            Hidden = true,
        };
        command.Options.Add(backing);
        command.Options.Add(log);
        command.Options.Add(direct);
        command.Options.Add(queues);
        command.Options.Add(depth);
        command.Options.Add(blockSize);
        command.SetAction(result => Run(
            result.GetValue(backing)!,
            result.GetValue(log),
            result.GetValue(direct),
            new FrontendOptions
            {
                Queues = result.GetValue(queues),
                QueueDepth = result.GetValue(depth),
                LogicalBlockSize = result.GetValue(blockSize),
            }));
        return command;
    }

    private static int Run(string backingPath, string? logPath, bool direct, FrontendOptions options)
    {
        try
        {
            using IBlockBackend backend = OpenBackend(backingPath, logPath, direct, options.LogicalBlockSize);
            using var frontend = new UblkFrontend(backend, options);
            using var stop = new ManualResetEventSlim();
            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
            string device = frontend.Start();
            Console.Out.WriteLine(device);
            Console.Out.Flush();
            WaitHandle.WaitAny([stop.WaitHandle, ((IAsyncResult)frontend.Completion).AsyncWaitHandle]);
            frontend.Stop();
            if (backend is LoggingBackend { Log.Failure: not 0 } logged)
            {
                Console.Error.WriteLine($"fastlog: the log failed: {logged.Log.FailureReason}");
                return 1;
            }
            Console.Error.WriteLine($"ublk: stopped {device} after {frontend.RequestsServed} requests");
            return 0;

            void Cancel(PosixSignalContext context)
            {
                context.Cancel = true; // we stop ourselves, cleanly
                stop.Set();
            }
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"fastlog: {e.Message}");
            return 1;
        }
    }

    private static IBlockBackend OpenBackend(string backingPath, string? logPath, bool direct, int logicalBlockSize)
    {
        FileBackend backing = FileBackend.Open(backingPath, direct);
        if (logPath is null)
            return backing;
        try
        {
            var options = new CaptureLogOptions();
            return new LoggingBackend(backing, CaptureLog.Create(logPath, logicalBlockSize, options), options.FlushWaitsFor);
        }
        catch
        {
            backing.Dispose();
            throw;
        }
    }
}
