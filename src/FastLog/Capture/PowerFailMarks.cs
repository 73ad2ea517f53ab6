using System.Globalization;
using System.Text;
using FastLog.Backends;

namespace FastLog.Capture;

/// <summary>
/// How a capture with a volatile cache (<c>--power-fail</c>) records power cuts and early write-backs as marks, so a
/// crash explorer can rebuild the exact crash state from the log. Ranges are <c>START+COUNT</c> in log sectors
/// (decimal), comma-separated; a list too long for one mark continues in further marks with the same prefix.
/// </summary>
/// <remarks>
/// In log order:
/// <list type="bullet">
/// <item><c>writeback:RANGES</c>: the cache was full and wrote these sectors back: from here on they are persisted
/// with their contents at this point of the log.</item>
/// <item><c>powerfail</c>: the cut. Every entry before it completed before the cut; no request completes after it until
/// <c>poweron</c>.</item>
/// <item><c>powerfail-keep=POLICY cached=N kept=K</c> right after it (POLICY with its seed, e.g. <c>random:42</c>),
/// then <c>powerfail-kept:RANGES</c> marks (none when K is 0) naming the K sectors kept, with their contents at the
/// cut.</item>
/// <item><c>poweron</c>: service restored; the device holds the crash state.</item>
/// </list>
/// The crash state is therefore: the log replayed to the last completed FLUSH before <c>powerfail</c> (a FLUSH voided
/// by a <see cref="LogFormat.FailedFlushMark"/> does not count), plus every FUA write, DISCARD and WRITE_ZEROES after
/// it (they go through the cache), plus the write-backs, plus the kept sectors. With <c>--keep none</c> and no
/// write-back or FUA since the last flush, that is the replay to the last flush; with <c>--keep all</c>, the replay
/// to <c>powerfail</c>.
/// </remarks>
public static class PowerFailMarks
{
    public const string PowerFail = "powerfail";
    public const string PowerOn = "poweron";
    public const string KeepPrefix = "powerfail-keep=";
    public const string KeptPrefix = "powerfail-kept:";
    public const string WriteBackPrefix = "writeback:";

    public static string Summary(PowerCutResult cut) =>
        $"{KeepPrefix}{cut.Keep} cached={cut.CachedBlocks} kept={cut.KeptBlocks}";

    /// <summary>The ranges as marks of at most <paramref name="maxNameLength"/> bytes, each starting with <paramref name="prefix"/>.</summary>
    public static List<string> Format(string prefix, ReadOnlySpan<BlockRange> ranges, int maxNameLength)
    {
        var marks = new List<string>();
        var name = new StringBuilder(prefix);
        foreach (BlockRange range in ranges)
        {
            string item = range.Start.ToString(CultureInfo.InvariantCulture) + "+" + range.Count.ToString(CultureInfo.InvariantCulture);
            bool first = name.Length == prefix.Length;
            if (!first && name.Length + 1 + item.Length > maxNameLength)
            {
                marks.Add(name.ToString());
                name.Clear().Append(prefix);
                first = true;
            }
            if (!first)
                name.Append(',');
            name.Append(item);
        }
        if (name.Length > prefix.Length)
            marks.Add(name.ToString());
        return marks;
    }

    /// <summary>The ranges of one mark made by <see cref="Format"/>; false if it has another prefix or is malformed.</summary>
    public static bool TryParse(string markName, string prefix, out List<BlockRange> ranges)
    {
        ranges = [];
        if (!markName.StartsWith(prefix, StringComparison.Ordinal))
            return false;
        foreach (string item in markName[prefix.Length..].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int plus = item.IndexOf('+');
            if (plus <= 0 || !long.TryParse(item.AsSpan(0, plus), NumberStyles.None, CultureInfo.InvariantCulture, out long start)
                || !long.TryParse(item.AsSpan(plus + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long count))
                return false;
            ranges.Add(new BlockRange(start, count));
        }
        return true;
    }
}
