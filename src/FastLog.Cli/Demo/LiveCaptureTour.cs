using System.Diagnostics;

namespace FastLog.Cli.Demo;

/// <summary>
/// Part two of the demo: FastLog serves a file as a logged block device (ublk where the kernel has it, else a FUSE
/// file behind a loop device), ext4 is made and used on it with marks between steps, and the log is then replayed
/// to every mark and checked against what was written there.
/// </summary>
internal static class LiveCaptureTour
{
    private const long DeviceBytes = 128L << 20;

    public static bool Run(string fastlog, string dir)
    {
        string backing = Path.Combine(dir, "disk.img"), log = Path.Combine(dir, "live.log");
        using (FileStream f = File.Create(backing)) f.SetLength(DeviceBytes);
        Console.WriteLine($"$ truncate -s 128M {backing}");
        Console.WriteLine($"$ {fastlog} capture --backing {backing} --log {log} &");
        using Process capture = Process.Start(new ProcessStartInfo(fastlog, ["capture", "--backing", backing, "--log", log])
            { RedirectStandardOutput = true })!;
        string? device = capture.StandardOutput.ReadLine();
        if (string.IsNullOrEmpty(device))
        {
            capture.WaitForExit();
            throw new DemoException($"fastlog capture exited ({capture.ExitCode}) before serving a device");
        }
        var expectations = new List<MarkExpectation>();
        try
        {
            expectations = Workload(fastlog, device, dir);
        }
        finally
        {
            Console.WriteLine($"$ kill -TERM {capture.Id}     # capture removes {device} and closes the log");
            Shell.Capture("kill", "-TERM", capture.Id.ToString());
            if (!capture.WaitForExit(60_000))
                throw new DemoException("fastlog capture did not stop within a minute of SIGTERM");
        }
        if (capture.ExitCode != 0)
            throw new DemoException($"fastlog capture failed ({capture.ExitCode})");
        expectations[^1] = expectations[^1] with { DeviceSha256 = MarkCheck.Sha256(backing) };

        Console.WriteLine();
        Shell.Show(fastlog, "inspect", log);
        Console.WriteLine();
        Console.WriteLine("Replaying to each mark onto a zeroed image, then comparing with what was written there:");
        string image = Path.Combine(dir, "live-replay.img");
        bool allGood = true;
        foreach (MarkExpectation expected in expectations)
            allGood &= MarkCheck.Run(fastlog, log, image, DeviceBytes, expected);
        return allGood;
    }

    /// <summary>mkfs, fsync'd and sync'd files, a rename and a delete, umount; a mark after each durable step.</summary>
    private static List<MarkExpectation> Workload(string fastlog, string device, string dir)
    {
        var marks = new List<MarkExpectation>();
        var durable = new Dictionary<string, string>();
        var gone = new List<string>();
        void Mark(string name)
        {
            if (Shell.Show(fastlog, "mark", device, name) != 0)
                throw new DemoException($"fastlog mark {device} {name} failed");
            marks.Add(new MarkExpectation(name, durable.Select(kv => (kv.Key, kv.Value)).ToList(), [.. gone], null));
        }
        void Must(params string[] command)
        {
            if (Shell.Show(command[0], command[1..]) != 0)
                throw new DemoException($"{string.Join(' ', command)} failed");
        }
        string mnt = Directory.CreateDirectory(Path.Combine(dir, "mnt")).FullName;
        Must("mkfs.ext4", "-q", "-F", device);
        Mark("mkfs");
        Must("mount", device, mnt);
        try
        {
            var random = new Random(2014);
            string Write(string relative, int bytes, bool fsync)
            {
                var data = new byte[bytes];
                random.NextBytes(data);
                string path = Path.Combine(mnt, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using (var file = new FileStream(path, FileMode.Create))
                {
                    file.Write(data);
                    file.Flush(flushToDisk: fsync);
                }
                return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
            }
            Console.WriteLine($"(write {mnt}/numbers.bin, 1 MiB, and fsync it)");
            durable["numbers.bin"] = Write("numbers.bin", 1 << 20, fsync: true);
            Mark("fsync-1");
            Console.WriteLine($"(write {mnt}/dir/file1..3, 256 KiB each)");
            var pending = Enumerable.Range(1, 3).ToDictionary(i => $"dir/file{i}", i => Write($"dir/file{i}", 256 << 10, fsync: false));
            Must("sync", "-f", mnt);
            foreach (var kv in pending) durable[kv.Key] = kv.Value;
            Mark("sync-1");
            Must("mv", Path.Combine(mnt, "dir/file1"), Path.Combine(mnt, "renamed"));
            Must("rm", Path.Combine(mnt, "dir/file2"));
            Must("sync", "-f", mnt);
            durable["renamed"] = durable["dir/file1"];
            durable.Remove("dir/file1");
            durable.Remove("dir/file2");
            gone.AddRange(["dir/file1", "dir/file2"]);
            Mark("rename-delete");
        }
        finally
        {
            Must("umount", mnt);
        }
        Mark("umount");
        return marks;
    }
}
