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

        string image = Path.Combine(dir, "kernel-replay.img");
        Console.WriteLine("Replaying to each mark onto a zeroed image, then comparing with what the guest saw there:");
        bool allGood = true;
        foreach (MarkExpectation expected in ReadExpectations())
            allGood &= MarkCheck.Run(fastlog, log, image, DeviceBytes, expected);
        return allGood;
    }

    /// <summary>The marks file: "MARK SHA256  PATH" per file durable at a mark, the device hash after umount.</summary>
    private static List<MarkExpectation> ReadExpectations()
    {
        using var reader = new StreamReader(typeof(KernelLogTour).Assembly.GetManifestResourceStream(MarksResource)!);
        var marks = new List<string>();
        var files = new List<(string Mark, string Path, string Sha)>();
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
            else files.Add((parts[0], parts[1][66..], parts[1][..64]));
        }
        marks.Add("dm-log-writes-end");
        return marks.Select(m => new MarkExpectation(m,
            files.Where(f => f.Mark == m).Select(f => (f.Path, f.Sha)).ToList(), [],
            m is "umount" or "dm-log-writes-end" ? device : null)).ToList();
    }
}
