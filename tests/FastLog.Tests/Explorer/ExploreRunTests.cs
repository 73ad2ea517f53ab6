using System.Diagnostics;
using System.Text.Json;
using FastLog.Tests.Support;

namespace FastLog.Tests.Explorer;

/// <summary>
/// Explore runs as a batch system sees them: shards spread over processes (GNU parallel here) and merged, runs killed
/// and resumed, and a log written by the kernel's own dm-log-writes.
/// </summary>
[Collection("fuse")]
public class ExploreRunTests
{
    private static readonly string Fastlog = FastlogBinary.Path;

    /// <summary>A checker whose verdict depends only on the state's bytes: identical states get identical results.</summary>
    private const string ContentChecker = "h=$(dd if=\"$FASTLOG_DEVICE\" bs=1M count=4 iflag=direct 2>/dev/null | md5sum | head -c 1); [ \"$h\" != 0 ] && [ \"$h\" != 7 ]";

    private static string GeneratedLog(TempDirectory dir)
    {
        string log = dir.File("random.log");
        Shell.Check($"{Fastlog} generate-log {log} --size-mib 1 --write-kib 4 --flush-every 16 --device-mib 4");
        return log;
    }

    private static Dictionary<string, (string Outcome, string? MergedInto, string Key)> Results(string reportDir)
    {
        var results = new Dictionary<string, (string, string?, string)>();
        foreach (string line in File.ReadLines(Path.Combine(reportDir, "results.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            JsonElement e = doc.RootElement;
            string id = e.GetProperty("id").GetString()!;
            Assert.False(results.ContainsKey(id), $"state {id} recorded twice in {reportDir}");
            results[id] = (e.GetProperty("outcome").GetString()!, e.TryGetProperty("merged_into", out JsonElement m) ? m.GetString() : null,
                e.GetProperty("key").GetString()!);
        }
        return results;
    }

    [Fact]
    public void Shards_run_through_gnu_parallel_merge_to_exactly_the_states_and_results_of_one_run()
    {
        using var dir = new TempDirectory();
        string log = GeneratedLog(dir);
        string explore = $"{Fastlog} explore --log {log} --check '{ContentChecker}' --strategy prefix,subsets --budget 240 --jobs 1 --minimize-budget 4";
        (int wholeExit, string wholeOut) = Shell.Run($"{explore} --report {dir.File("whole")}", 600);
        Assert.True(wholeExit == 1, wholeOut); // the checker fails about one state in eight
        // As a batch system runs it: one script per shard index (a Kubernetes indexed Job or a Slurm array the same way).
        File.WriteAllText(dir.File("shard.sh"), $"exec {explore} --shard \"$1/3\" --report {dir.File("shard")}\"$1\"\n");
        Shell.Run($"parallel --halt never bash {dir.File("shard.sh")} ::: 0 1 2", 600);
        (int mergeExit, string mergeOut) = Shell.Run($"{Fastlog} explore --merge {dir.File("shard0")} {dir.File("shard1")} {dir.File("shard2")} --report {dir.File("merged")}");
        Assert.True(mergeExit == 1, mergeOut);

        var whole = Results(dir.File("whole"));
        var merged = Results(dir.File("merged"));
        Assert.Equal(240, whole.Count);
        Assert.Equal(whole.OrderBy(r => r.Key), merged.OrderBy(r => r.Key));
        Assert.Contains(whole.Values, r => r.MergedInto is not null); // identical states were merged, in one shard
        var shards = Enumerable.Range(0, 3).Select(i => Results(dir.File($"shard{i}"))).ToArray();
        Assert.All(shards, s => Assert.NotEmpty(s));
        Assert.Equal(240, shards.Sum(s => s.Count));
        Assert.True(File.Exists(dir.File("merged/report.html")));
    }

    [Theory]
    [InlineData(15)]
    [InlineData(9)]
    public void A_run_killed_halfway_and_resumed_checks_every_state_once(int signal)
    {
        using var dir = new TempDirectory();
        string log = GeneratedLog(dir);
        string checks = dir.File("checks.txt");
        string report = dir.File("report");
        string explore = $"{Fastlog} explore --log {log} --check 'echo \"$FASTLOG_STATE\" >> {checks}; sleep 0.02; {ContentChecker}' " +
                         $"--strategy prefix,subsets --budget 200 --jobs 2 --minimize-budget 0 --report {report}";
        var first = Process.Start(new ProcessStartInfo("bash", ["-c", explore]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        Assert.True(SpinWait.SpinUntil(() => File.Exists(checks) && File.ReadAllLines(checks).Length >= 40, 60_000), "explore never got going");
        Shell.Check($"pkill -{signal} -f 'explore --log {log}'");
        Assert.True(first.WaitForExit(30_000));
        int firstRun = File.ReadAllLines(checks).Length;
        Assert.InRange(firstRun, 40, 190);

        (int exit, string output) = Shell.Run($"{explore} --resume", 600);
        Assert.True(exit is 0 or 1, output);
        Assert.Contains("resuming", output);
        var results = Results(report);
        Assert.Equal(200, results.Count);
        string[] checkedIds = File.ReadAllLines(checks);
        int distinct = checkedIds.Distinct().Count();
        Assert.Equal(results.Values.Count(r => r.MergedInto is null), distinct); // every representative was checked
        if (signal == 15)
            Assert.Equal(distinct, checkedIds.Length); // a clean stop finishes what it started: nothing checked twice
        else
            Assert.InRange(checkedIds.Length - distinct, 0, 2 * 2); // SIGKILL: at most the states in flight, again
    }

    [Fact]
    public void A_log_the_kernel_wrote_explores_like_one_fastlog_wrote()
    {
        using var dir = new TempDirectory();
        string log = dir.File("kernel.log");
        Shell.Check($"zstd -q -d -o {log} {Path.Combine(Repository.Root, "tests/data/kernel-ext4-demo.log.zst")}");
        (int noSize, string noSizeOut) = Shell.Run($"{Fastlog} explore --log {log} --check fs");
        Assert.Equal(2, noSize);
        Assert.Contains("--size", noSizeOut);

        (int exit, string output) = Shell.Run($"{Fastlog} explore --log {log} --size {48 << 20} --check fs --after-mark mkfs " +
                                              "--strategy prefix,subsets,torn --atomic-unit 4096 --budget 120 --jobs 2 --json", 600);
        Assert.True(exit == 0, output);
        using JsonDocument summary = JsonDocument.Parse(output[output.IndexOf("{\n", StringComparison.Ordinal)..(output.LastIndexOf('}') + 1)]);
        Assert.True(summary.RootElement.GetProperty("checked").GetInt64() >= 60, output);

        // The prefix state at the umount mark is the whole device as the guest left it (tests/data/README.md).
        string marks = File.ReadAllText(Path.Combine(Repository.Root, "tests/data/kernel-ext4-demo.marks"));
        string expected = marks.Split('\n').Single(l => l.StartsWith("umount-device ")).Split(' ')[1];
        int umountMark = int.Parse(Shell.Check($"{Fastlog} replay --log {log} --find --end-mark umount").Split('@')[0]);
        string image = dir.File("umount.img");
        Shell.Check($"{Fastlog} materialize --log {log} --size {48 << 20} --state e{umountMark}-A -o {image}");
        Assert.StartsWith(expected, Shell.Check($"sha256sum {image}"));
    }
}
