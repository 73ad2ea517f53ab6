using System.Text.RegularExpressions;

namespace FastLog.Tests.Support;

/// <summary>FastLog's own replay (<c>fastlog replay</c>, replay-log semantics) run as a child process.</summary>
internal static partial class FastlogReplay
{
    /// <summary>Replays the whole log onto <paramref name="imagePath"/> (discards punch holes); returns replay's output.</summary>
    public static string Apply(string logPath, string imagePath, bool scan = false) =>
        Shell.Check($"{FastlogBinary.Path} replay --log {logPath} --replay {imagePath}{(scan ? " --scan" : "")}", 300);

    /// <summary>nr_entries as the super block says.</summary>
    public static long Entries(string logPath)
    {
        string output = Shell.Check($"{FastlogBinary.Path} replay --log {logPath}");
        Match m = EntriesPattern().Match(output);
        Assert.True(m.Success, output);
        return long.Parse(m.Groups[1].Value);
    }

    /// <summary>Whether a mark named <paramref name="name"/> is in the log.</summary>
    public static bool HasMark(string logPath, string name) =>
        Shell.Run($"{FastlogBinary.Path} replay --log {logPath} --find --end-mark {name}").Exit == 0;

    public static void AssertIdentical(string expectedPath, string actualPath)
    {
        (int exit, string output) = Shell.Run($"cmp {expectedPath} {actualPath}", 120);
        Assert.True(exit == 0, $"replayed image differs from the backing store: {output}");
    }

    [GeneratedRegex(@"entries=(\d+)")]
    private static partial Regex EntriesPattern();
}
