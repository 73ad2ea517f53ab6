using System.Globalization;
using System.Text;

namespace FastLog.Explorer.Report;

/// <summary>Lists of log entries written as ranges ("12, 14–16, 40"), at most a fixed number of ranges shown.</summary>
internal static class EntryRanges
{
    public const int MaxRanges = 64;

    /// <summary>The entries sorted and deduplicated, runs of consecutive entries joined, and the count of entries left out.</summary>
    public static string Format(IReadOnlyList<long> entries, int maxRanges = MaxRanges)
    {
        if (entries.Count == 0) return "none";
        long[] sorted = entries.Distinct().Order().ToArray();
        var text = new StringBuilder();
        int ranges = 0, i = 0;
        for (; i < sorted.Length && ranges < maxRanges; ranges++)
        {
            int end = i;
            while (end + 1 < sorted.Length && sorted[end + 1] == sorted[end] + 1) end++;
            if (ranges > 0) text.Append(", ");
            text.Append(sorted[i].ToString(CultureInfo.InvariantCulture));
            if (end > i) text.Append(end == i + 1 ? ", " : "\u2013").Append(sorted[end].ToString(CultureInfo.InvariantCulture));
            i = end + 1;
        }
        if (i < sorted.Length)
            text.Append(CultureInfo.InvariantCulture, $" \u2026 and {sorted.Length - i} more");
        return text.ToString();
    }
}
