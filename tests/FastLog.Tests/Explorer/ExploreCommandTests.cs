using System.Text;
using System.Text.Json;
using FastLog.Backends;
using FastLog.Capture;
using FastLog.Tests.Support;

namespace FastLog.Tests.Explorer;

/// <summary>
/// `fastlog explore` and `fastlog materialize` as a user runs them, on logs written by FastLog's embedded logging
/// backend, with states shown through real FUSE + loop devices and checked by shell commands that read them.
/// </summary>
[Collection("fuse")]
public class ExploreCommandTests
{
    private static readonly string Fastlog = FastlogBinary.Path;
    private const long DataOffset = 64 << 10;

    /// <summary>
    /// The classic ordering bug: a data block, then a commit record pointing at it, with no flush between, then a
    /// flush and a mark. Log order (prefix) always has the data before the commit; only a subset that persists the
    /// commit without the data shows the bug.
    /// </summary>
    internal static string CommitLog(TempDirectory dir, int sectorSize) => CommitLog(dir.File($"commit-{sectorSize}.log"), sectorSize);

    internal static string CommitLog(string log, int sectorSize)
    {
        using (var device = new LoggingBackend(new MemoryBackend(1 << 20), CaptureLog.Create(log, sectorSize)))
        {
            byte[] data = Block(sectorSize, "DATA");
            byte[] commit = Block(sectorSize, "COMMIT");
            Assert.Equal(0, device.Write(DataOffset, data, fua: false));
            Assert.Equal(0, device.Write(0, commit, fua: false));
            Assert.Equal(0, device.Flush());
            Assert.Equal(0, device.Mark("committed"));
        }
        return log;
    }

    private static byte[] Block(int size, string text)
    {
        var block = new byte[size];
        Encoding.ASCII.GetBytes(text).CopyTo(block, 0);
        return block;
    }

    /// <summary>Passes unless the commit record is on the device without its data.</summary>
    internal static string CommitChecker(int sectorSize) =>
        $"c=$(dd if=\"$FASTLOG_DEVICE\" bs={sectorSize} count=1 iflag=direct 2>/dev/null | head -c 6); " +
        $"d=$(dd if=\"$FASTLOG_DEVICE\" bs={sectorSize} count=1 skip={DataOffset / sectorSize} iflag=direct 2>/dev/null | head -c 4); " +
        "[ \"$c\" != COMMIT ] || [ \"$d\" = DATA ] || { echo \"commit without data in $FASTLOG_STATE on $FASTLOG_DEVICE\"; exit 1; }";

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public void Subsets_find_the_commit_without_its_data_that_prefixes_miss_and_materialize_reproduces_it(int sectorSize)
    {
        using var dir = new TempDirectory();
        string log = CommitLog(dir, sectorSize);
        string check = CommitChecker(sectorSize).Replace("'", "'\\''");

        (int prefixExit, string prefixOut) = Shell.Run($"{Fastlog} explore --log {log} --check '{check}' --strategy prefix --jobs 1 --json");
        Assert.True(prefixExit == 0, prefixOut);
        using (JsonDocument prefix = JsonDocument.Parse(JsonPart(prefixOut)))
        {
            Assert.Equal(0, prefix.RootElement.GetProperty("failed").GetInt32());
            Assert.True(prefix.RootElement.GetProperty("done").GetInt32() >= 2, prefixOut);
        }

        (int subsetsExit, string subsetsOut) = Shell.Run($"{Fastlog} explore --log {log} --check '{check}' --strategy subsets --jobs 2 --json --report {dir.File("report")}");
        Assert.True(subsetsExit == 1, subsetsOut);
        using JsonDocument subsets = JsonDocument.Parse(JsonPart(subsetsOut));
        JsonElement[] failures = subsets.RootElement.GetProperty("failures").EnumerateArray().ToArray();
        // Entries: 0 the size mark, 1 data, 2 commit, 3 flush, 4 the mark. The failing state persists only the commit.
        JsonElement failure = Assert.Single(failures, f => !f.TryGetProperty("merged_into", out _));
        Assert.Equal([2], Ints(failure, "persisted"));
        Assert.Equal([1], Ints(failure, "dropped"));
        JsonElement minimized = failure.GetProperty("minimized");
        Assert.Equal([2], Ints(minimized, "persisted"));
        Assert.Equal([1], Ints(minimized, "dropped"));
        Assert.Contains("commit without data", failure.GetProperty("output").GetString());

        // The report a person opens: Chromium renders the timeline with the failing crash point and the failure.
        AngleSharp.Dom.IDocument dom = HtmlReportTests.RenderedDom(dir.File("report/report.html"), dir.Path, out _);
        Assert.Equal([failure.GetProperty("id").GetString()], dom.QuerySelectorAll("section.failure").Select(e => e.GetAttribute("data-state")));
        Assert.Equal([failure.GetProperty("crash_entry").GetInt32().ToString()],
            dom.QuerySelectorAll("[data-crash-entry]").Select(e => e.GetAttribute("data-crash-entry")).Distinct());
        Assert.Equal(subsets.RootElement.GetProperty("failed").GetInt64().ToString(),
            dom.QuerySelector("#summary [data-stat=\"states-failed\"]")!.GetAttribute("data-count"));

        string image = dir.File("state.img");
        string id = minimized.GetProperty("id").GetString()!;
        Shell.Check($"{Fastlog} materialize --log {log} --state {id} -o {image}");
        byte[] bytes = File.ReadAllBytes(image);
        Assert.Equal(1 << 20, bytes.Length);
        Assert.Equal("COMMIT", Encoding.ASCII.GetString(bytes, 0, 6));
        Assert.All(bytes.AsSpan((int)DataOffset, sectorSize).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Usage_errors_exit_2_and_say_what_is_wrong()
    {
        using var dir = new TempDirectory();
        string log = CommitLog(dir, 512);
        (int exit, string output) = Shell.Run($"{Fastlog} explore --log {log} --check true --strategy everything");
        Assert.Equal(2, exit);
        Assert.Contains("'everything' is not one of", output);
        (exit, output) = Shell.Run($"{Fastlog} explore --log {dir.File("missing.log")} --check true");
        Assert.Equal(2, exit);
        Assert.Contains("missing.log", output);
        (exit, output) = Shell.Run($"{Fastlog} explore --log {log} --check true --shard 3/3");
        Assert.Equal(2, exit);
        Assert.Contains("--shard 3/3", output);
        // A checker that cannot run at all is one usage error, not a failed state per state.
        (exit, output) = Shell.Run($"{Fastlog} explore --log {log} --check oracle={dir.File("none.journal")}");
        Assert.Equal(2, exit);
        Assert.Contains("none.journal", output);
        Assert.DoesNotContain("FAILED", output);
        (exit, output) = Shell.Run($"{Fastlog} explore --log {log} --check true --after-mark no-such-mark");
        Assert.Equal(2, exit);
        Assert.Contains("no-such-mark", output);
    }

    private static string JsonPart(string output) => output[output.IndexOf('{')..(output.LastIndexOf('}') + 1)];

    private static int[] Ints(JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(x => x.GetInt32()).ToArray();
}
