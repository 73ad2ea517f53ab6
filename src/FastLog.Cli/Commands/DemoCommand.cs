using System.CommandLine;
using FastLog.Cli.Demo;

namespace FastLog.Cli.Commands;

/// <summary><c>fastlog demo</c>: FastLog's main job, end to end, showing every command it runs.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var dir = new Option<string?>("--dir") { Description = "Where to put logs and images (default: a new temporary directory)" };
        var keep = new Option<bool>("--keep") { Description = "Keep the logs and images afterwards, to explore them" };
        var command = new Command("demo", """
            Show FastLog's main job end to end, printing each command as you would type it:
              1. a log written by the kernel's own dm-log-writes is inspected and replayed to every mark, and each
                 replayed image is checked against what the kernel's guest saw there (files, device, fsck);
            Needs root (it mounts images) and the tools scripts/setup installs. Exit status 0 when every check held.
            """);
        command.Options.Add(dir);
        command.Options.Add(keep);
        command.SetAction(parse => Run(parse.GetValue(dir), parse.GetValue(keep)));
        return command;
    }

    private static int Run(string? dir, bool keep)
    {
        if (Environment.UserName != "root")
        {
            Console.Error.WriteLine("fastlog demo: needs root: it attaches loop devices and mounts images (try: sudo bin/fastlog demo)");
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
            Console.WriteLine();
            Console.WriteLine(kernelOk ? "Every check held." : "SOME CHECKS FAILED (see above).");
            if (keep) Console.WriteLine($"Logs and images are in {dir}");
            return kernelOk ? 0 : 1;
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
