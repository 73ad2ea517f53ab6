using FastLog.LogFormat;

namespace FastLog.Replay;

/// <summary>
/// Where a replay or find stops, computed from the index instead of by walking: the first entry at or after
/// the start that meets a stop condition, exactly as replay-log's <c>should_stop</c> decides.
/// </summary>
public static class ReplayStop
{
    /// <summary>
    /// The inclusive last entry, or -1 if no condition matches within <paramref name="entryCount"/> entries.
    /// With an end mark only that mark stops the run: replay-log then requires MARK and the name to match, so
    /// <c>--next-fua</c>/<c>--next-flush</c> are inert beside <c>--end-mark</c>.
    /// </summary>
    public static long Find(LogIndex index, ReplayOptions options, long start, long entryCount)
    {
        long stop = -1;
        if (options.Limit > 0 && options.Limit <= (ulong)(entryCount - start))
            stop = start + (long)options.Limit - 1;
        long byCondition = -1;
        if (options.EndMark is { } mark)
            byCondition = index.FindMark(mark, (int)start);
        else if (options.NextFua || options.NextFlush)
            byCondition = index.FindFlag((options.NextFua ? LogEntryFlags.Fua : 0) | (options.NextFlush ? LogEntryFlags.Flush : 0), (int)start);
        if (byCondition >= entryCount)
            byCondition = -1;
        return stop < 0 ? byCondition : byCondition < 0 ? stop : Math.Min(stop, byCondition);
    }
}
