using System.Text.RegularExpressions;

namespace FastLog.Tests.Support;

/// <summary>
/// The journaling workload of the kill and fault tests (journaling-writer.sh, natively and in the guest, which sees the
/// repository at the same path) and its check: every write the workload saw complete is on a replayed image.
/// </summary>
internal static partial class JournalingWriter
{
    /// <summary>Run as <c>bash {Script} DEVICE JOURNAL SCRATCH_FILE [DD_ERRORS]</c>.</summary>
    public static string Script { get; } = Path.Combine(Repository.Root, "tests", "FastLog.Tests", "Support", "journaling-writer.sh");

    /// <summary>Each block's content names its latest write; it must be no older than the last acknowledged one.
    /// Returns how many writes were acknowledged.</summary>
    public static int AssertAcknowledgedWritesPresent(string journal, string image, string what)
    {
        var lastAcked = new Dictionary<int, int>();
        string[] lines = File.ReadAllLines(journal);
        foreach (string line in lines)
        {
            string[] parts = line.Split(' ');
            lastAcked[int.Parse(parts[0])] = int.Parse(parts[1]);
        }
        byte[] bytes = File.ReadAllBytes(image);
        foreach ((int block, int seq) in lastAcked)
        {
            Match m = BlockText().Match(System.Text.Encoding.ASCII.GetString(bytes, block * 4096, 64));
            Assert.True(m.Success, $"{what}: block {block} (last acknowledged write seq {seq}) is missing from the replayed log");
            Assert.Equal(block, int.Parse(m.Groups[1].Value));
            Assert.True(int.Parse(m.Groups[2].Value) >= seq, $"{what}: block {block} holds seq {m.Groups[2].Value}, older than acknowledged seq {seq}");
        }
        return lines.Length;
    }

    [GeneratedRegex(@"^blk (\d+) seq (\d+)\n")]
    private static partial Regex BlockText();
}
