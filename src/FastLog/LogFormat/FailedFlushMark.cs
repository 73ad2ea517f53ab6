using System.Globalization;

namespace FastLog.LogFormat;

/// <summary>
/// The mark that voids a FLUSH entry whose flush failed: <c>flush-failed@OFFSET</c>, OFFSET being the byte offset
/// of that FLUSH entry's header in the log. A FLUSH enters the log when it arrives (so that it covers exactly the
/// writes completed before it), before anyone knows whether the backing store's flush will succeed; when it fails,
/// the capture appends this mark, and readers (<see cref="LogIndex"/>: replay's --next-flush and --check flush, flush
/// epochs, inspect) treat that entry as no durability point. The mark names the entry because requests completing in
/// between may put entries between the two. xfstests' replay-log knows nothing of it.
/// </summary>
public static class FailedFlushMark
{
    public const string Prefix = "flush-failed@";

    public static string Name(long flushHeaderOffset) => Prefix + flushHeaderOffset.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string markName, out long flushHeaderOffset)
    {
        flushHeaderOffset = 0;
        return markName.StartsWith(Prefix, StringComparison.Ordinal)
            && long.TryParse(markName.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out flushHeaderOffset);
    }
}
