using FastLog.Devices;
using FastLog.Replay;
using FastLog.Tests.Support;

namespace FastLog.Tests.Devices;

/// <summary>README's embedded example is this test's code, line for line, and it runs.</summary>
public class EmbeddedExampleTests
{
    [Fact]
    public void The_readme_example_opens_a_device_in_process_writes_flushes_marks_and_replays()
    {
        using var dir = new TempDirectory();
        string disk = dir.File("disk.img"), log = dir.File("run.log"), copy = dir.File("copy.img");
        File.WriteAllBytes(disk, new byte[1 << 20]);
        TextWriter output = new StringWriter(), errors = new StringWriter();
        int status;
        // README example begin
        using (var device = LoggedDevice.Open(new DeviceOptions { Backing = disk, Log = log, Frontend = FrontendKind.None }))
        {
            byte[] block = new byte[4096];
            block.AsSpan().Fill(0xAB);
            device.Backend.Write(0, block, fua: false);   // 0 or -errno, as a kernel request would get
            device.Backend.Flush();                       // the backing and the log are durable up to here
            device.Mark("after-flush");
            device.Backend.Write(4096, block, fua: false);
        }                                                 // closes the log: end mark, nr_entries, durable
        // The device as it was at the mark: the first block, not the second.
        File.WriteAllBytes(copy, new byte[1 << 20]);
        status = new LogReplayer(new ReplayOptions { LogPath = log, ReplayPath = copy, EndMark = "after-flush" }, output, errors).Run();
        // README example end
        Assert.True(status == 0, errors.ToString());
        byte[] image = File.ReadAllBytes(copy);
        Assert.All(image.AsSpan(0, 4096).ToArray(), b => Assert.Equal(0xAB, b));
        Assert.All(image.AsSpan(4096, 4096).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(8192, File.ReadAllBytes(disk).AsSpan(0, 8192).ToArray().Count(b => b == 0xAB)); // the backing got both

        string[] example = Between(File.ReadAllLines(Path.Combine(Repository.Root, "README.md")), "```csharp", "```");
        string[] here = Between(File.ReadAllLines(Path.Combine(Repository.Root, "tests/FastLog.Tests/Devices/EmbeddedExampleTests.cs")),
            "// README example begin", "// README example end");
        Assert.Equal(here.Select(l => l.Trim()), example.Where(l => !(l.StartsWith("using ", StringComparison.Ordinal) && l.EndsWith(';'))).Select(l => l.Trim()));
    }

    private static string[] Between(string[] lines, string begin, string end)
    {
        int from = Array.FindIndex(lines, l => l.Trim() == begin);
        Assert.True(from >= 0, $"no {begin}");
        int to = Array.FindIndex(lines, from + 1, l => l.Trim() == end);
        return lines[(from + 1)..to].Where(l => l.Trim().Length > 0).ToArray();
    }
}
