using System.Security.Cryptography;

namespace FastLog.Cli.Demo;

/// <summary>
/// Part one of the demo: a log written by the kernel's own dm-log-writes (bundled in the binary, made in the guest
/// by tests/vm/make-demo-log.sh) is inspected, replayed to each of its marks, and each replayed image is checked
/// against what the guest saw at that mark: file contents, whole-device hash, fsck.
/// </summary>
internal static class KernelLogTour
{
    private const string LogResource = "kernel-ext4-demo.log.zst", MarksResource = "kernel-ext4-demo.marks";
    private const long DeviceBytes = 48L << 20;

    public static bool Run(string fastlog, string dir)
    {
        string compressed = Path.Combine(dir, LogResource);
        using (Stream resource = typeof(KernelLogTour).Assembly.GetManifestResourceStream(LogResource)!)
        using (FileStream file = File.Create(compressed))
            resource.CopyTo(file);
        string log = Path.Combine(dir, "kernel.log");
        if (Shell.Show("zstd", "-dqf", compressed, "-o", log) != 0)
            throw new DemoException("zstd could not unpack the bundled log");
        Console.WriteLine();
        Shell.Show(fastlog, "inspect", log);
        Console.WriteLine();

        var seen = ReadExpectations();
        string image = Path.Combine(dir, "kernel-replay.img");
        bool allGood = true;
        Console.WriteLine("Replaying to each mark onto a zeroed image, then comparing with what the guest saw there:");
        foreach (string mark in seen.Marks)
        {
            using (FileStream f = File.Create(image)) f.SetLength(DeviceBytes);
            Shell.Show(fastlog, "replay", "--log", log, "--replay", image, "--end-mark", mark);
            string entry = Shell.Must(fastlog, "replay", "--log", log, "--find", "--end-mark", mark).Trim();
            var problems = new List<string>();
            bool deviceChecked = seen.DeviceSha256 != null && mark is "umount" or "dm-log-writes-end";
            if (deviceChecked && Sha256(image) != seen.DeviceSha256)
                problems.Add("whole device differs from the guest's");
            var files = seen.Files.Where(f => f.Mark == mark).ToList();
            using (var mounted = new MountedImage(image))
                foreach (var (_, sha, path) in files)
                {
                    string full = Path.Combine(mounted.Root, path);
                    if (!File.Exists(full)) problems.Add($"{path} missing");
                    else if (Sha256(full) != sha) problems.Add($"{path} differs");
                }
            (int fsck, string fsckOutput) = Shell.Capture("e2fsck", "-fn", image);
            if (fsck != 0) problems.Add($"e2fsck -fn: {fsckOutput.Trim().Split('\n')[^1]}");
            allGood &= problems.Count == 0;
            string what = deviceChecked ? "whole device" : $"{files.Count} files";
            string verdict = problems.Count == 0 ? $"{what} as the guest saw it, fsck clean" : string.Join("; ", problems);
            Console.WriteLine($"   {mark,-18} entry {entry,-14} {verdict}");
        }
        return allGood;
    }

    private sealed record Expectations(List<string> Marks, List<(string Mark, string Sha, string Path)> Files, string? DeviceSha256);

    private static Expectations ReadExpectations()
    {
        using var reader = new StreamReader(typeof(KernelLogTour).Assembly.GetManifestResourceStream(MarksResource)!);
        var marks = new List<string>();
        var files = new List<(string, string, string)>();
        string? device = null;
        while (reader.ReadLine() is { } line)
        {
            const string order = "# marks in log order:";
            if (line.StartsWith(order, StringComparison.Ordinal))
                marks.AddRange(line[order.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            if (line.Length == 0 || line[0] == '#')
                continue;
            string[] parts = line.Split(' ', 2);
            if (parts[0] == "umount-device") device = parts[1].Trim();
            else files.Add((parts[0], parts[1][..64], parts[1][66..]));
        }
        marks.Add("dm-log-writes-end");
        return new Expectations(marks, files, device);
    }

    private static string Sha256(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
