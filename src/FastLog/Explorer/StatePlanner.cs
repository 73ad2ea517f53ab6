using System.Collections;
using FastLog.LogFormat;

namespace FastLog.Explorer;

/// <summary>Which refinements of the crash model to enumerate; combinable.</summary>
[Flags]
public enum Strategies
{
    None = 0,
    /// <summary>One state per crash point: every volatile write persisted, in order (replay-log's view).</summary>
    Prefix = 1,
    /// <summary>Any subset of the volatile writes.</summary>
    Subsets = 2,
    /// <summary>A volatile write larger than the atomic unit persists only some of its units.</summary>
    Torn = 4,
    /// <summary>A block written several times since the flush holds an older version: that write landed last.</summary>
    Versions = 8,
    /// <summary>A write in flight reads back as zeros or random bytes.</summary>
    Corrupt = 16,
}

public sealed record PlanOptions
{
    public Strategies Strategies { get; init; } = Strategies.Prefix | Strategies.Subsets;
    /// <summary>Every subset is enumerated at crash points with at most this many volatile writes.</summary>
    public int MaxSubset { get; init; } = 10;
    /// <summary>States in the whole plan, spread over the crash points.</summary>
    public long Budget { get; init; } = 10_000;
    /// <summary>Chooses which random subsets are sampled where there are too many to enumerate.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Bytes that a device writes all-or-nothing; torn writes split at this size.</summary>
    public int AtomicUnit { get; init; } = 512;
}

/// <summary>
/// Turns crash points into states, deterministically: the same log and options give the same states in the same
/// order on every machine, which is what makes --shard and --resume exact.
/// </summary>
/// <remarks>
/// Budget: every crash point first gets an equal share (water-filling: points that have fewer states than their
/// share give the rest to the others), so no point is starved by a large epoch elsewhere. Within a point the
/// strategies take turns (prefix first), and random subsets come last, where the exhaustive ones run out.
/// </remarks>
public static class StatePlanner
{
    /// <summary>The states of each crash point, in crash-point order; each point's list is produced lazily.</summary>
    public static IEnumerable<(CrashPoint Point, IEnumerable<CrashState> States)> Plan(IReadOnlyList<CrashPoint> points, PlanOptions options)
    {
        long[] quota = Quotas(points.Select(p => Capacity(p, options)).ToArray(), options.Budget);
        for (int i = 0; i < points.Count; i++)
            yield return (points[i], States(points[i], options).Take((int)Math.Min(quota[i], int.MaxValue)));
    }

    /// <summary>Splits <paramref name="budget"/> over points of these capacities; none gets more than it has.</summary>
    internal static long[] Quotas(long[] capacity, long budget)
    {
        long[] quota = new long[capacity.Length];
        var open = Enumerable.Range(0, capacity.Length).Where(i => capacity[i] > 0).ToList();
        long left = budget;
        while (open.Count > 0 && left > 0)
        {
            long share = Math.Max(1, left / open.Count);
            foreach (int i in open.ToArray())
            {
                long give = Math.Min(Math.Min(share, capacity[i] - quota[i]), left);
                quota[i] += give;
                left -= give;
                if (quota[i] == capacity[i]) open.Remove(i);
                if (left == 0) break;
            }
        }
        return quota;
    }

    /// <summary>How many distinct states the point has under these options (random sampling counts as unbounded).</summary>
    internal static long Capacity(CrashPoint point, PlanOptions options)
    {
        Strategies s = options.Strategies;
        long k = point.Volatile.Count, count = 0;
        bool prefix = (s & Strategies.Prefix) != 0;
        if (prefix)
            count++;
        if ((s & Strategies.Subsets) != 0 && k > 0)
            count += k <= options.MaxSubset
                ? (1L << (int)k) - (prefix ? 1 : 0)
                : 1 + 2 * k + k * (k - 1) + (prefix ? 0 : 1) + options.Budget; // sizes 0-2, co-sizes 1-2, random
        var cheap = options with { Strategies = s & (Strategies.Torn | Strategies.Versions | Strategies.Corrupt) };
        if (cheap.Strategies != Strategies.None)
            count += States(point, cheap).LongCount();
        return count;
    }

    private static IEnumerable<CrashState> States(CrashPoint point, PlanOptions options)
    {
        var turns = new List<IEnumerator<CrashState>>();
        Strategies s = options.Strategies;
        if ((s & Strategies.Prefix) != 0)
            turns.Add(Prefix(point).GetEnumerator());
        if ((s & Strategies.Subsets) != 0)
            turns.Add(Subsets(point, options, (s & Strategies.Prefix) != 0).GetEnumerator());
        if ((s & Strategies.Torn) != 0)
            turns.Add(Torn(point, options.AtomicUnit).GetEnumerator());
        if ((s & Strategies.Versions) != 0)
            turns.Add(Versions(point).GetEnumerator());
        if ((s & Strategies.Corrupt) != 0)
            turns.Add(Corrupt(point).GetEnumerator());
        return TakeTurns(turns);
    }

    /// <summary>One state from each source in turn until all run dry, so that a budget cut leaves a mix of them.</summary>
    private static IEnumerable<CrashState> TakeTurns(List<IEnumerator<CrashState>> turns)
    {
        while (turns.Count > 0)
            for (int t = 0; t < turns.Count; t++)
            {
                if (turns[t].MoveNext())
                    yield return turns[t].Current;
                else
                    turns.RemoveAt(t--);
            }
    }

    private static IEnumerable<CrashState> Prefix(CrashPoint point)
    {
        yield return new CrashState(point.Entry, All(point.Volatile.Count, true), strategy: "prefix");
    }

    private static IEnumerable<CrashState> Subsets(CrashPoint point, PlanOptions options, bool prefixIncluded)
    {
        int k = point.Volatile.Count;
        if (k == 0)
            yield break;
        if (k <= options.MaxSubset)
        {
            // Every subset, smallest persisted sets first (those most often expose a missing flush).
            for (int size = 0; size <= k; size++)
                foreach (BitArray bits in OfSize(k, size))
                    if (size < k || !prefixIncluded)
                        yield return new CrashState(point.Entry, bits);
            yield break;
        }
        // Too many to enumerate: nothing persisted, then, taking turns so that a budget cut leaves a mix: each write
        // alone, each write missing, pairs, pairs missing, and seeded random subsets (which go on until the budget ends).
        yield return new CrashState(point.Entry, All(k, false));
        if (!prefixIncluded)
            yield return new CrashState(point.Entry, All(k, true));
        foreach (CrashState state in TakeTurns(
                 [
                     OfSize(k, 1).Select(b => new CrashState(point.Entry, b)).GetEnumerator(),
                     OfSize(k, 1).Select(b => new CrashState(point.Entry, b.Not())).GetEnumerator(),
                     RandomSubsets(point, options.Seed).GetEnumerator(),
                     OfSize(k, 2).Select(b => new CrashState(point.Entry, b)).GetEnumerator(),
                     OfSize(k, 2).Select(b => new CrashState(point.Entry, b.Not())).GetEnumerator(),
                 ]))
            yield return state;
    }

    private static IEnumerable<CrashState> RandomSubsets(CrashPoint point, ulong seed)
    {
        var pick = new SplitMix64(seed * 0x9E3779B97F4A7C15UL ^ (ulong)point.Entry);
        while (true)
        {
            int sample = (int)(pick.Next() & int.MaxValue);
            yield return new CrashState(point.Entry, CrashState.RandomSubset(point.Entry, point.Volatile.Count, sample), strategy: "subsets", randomSample: sample);
        }
    }

    private static IEnumerable<BitArray> OfSize(int k, int size)
    {
        if (size == 0) { yield return All(k, false); yield break; }
        int[] chosen = Enumerable.Range(0, size).ToArray();
        while (true)
        {
            var bits = new BitArray(k);
            foreach (int c in chosen) bits[c] = true;
            yield return bits;
            int i = size - 1;
            while (i >= 0 && chosen[i] == k - size + i) i--;
            if (i < 0) yield break;
            chosen[i]++;
            for (int j = i + 1; j < size; j++) chosen[j] = chosen[j - 1] + 1;
        }
    }

    /// <summary>
    /// Each multi-unit volatile write torn, the others persisted: its first unit only, its first half, all but its last
    /// unit, and all but its first unit (the tail landed, the head did not).
    /// </summary>
    private static IEnumerable<CrashState> Torn(CrashPoint point, int atomicUnit)
    {
        int k = point.Volatile.Count;
        for (int w = 0; w < k; w++)
        {
            LoggedWrite write = point.Volatile[w];
            if (write.IsZeroes) continue;
            long units = write.Length / atomicUnit;
            if (units < 2) continue;
            int u = (int)Math.Min(units, 64); // a unit mask is 64 bits: longer writes tear in 64 equal pieces
            ulong full = u == 64 ? ulong.MaxValue : (1UL << u) - 1;
            var masks = new SortedSet<ulong> { 1UL, (1UL << (u / 2)) - 1, full >> 1, full & ~1UL };
            masks.Remove(0);
            masks.Remove(full);
            foreach (ulong mask in masks)
                yield return new CrashState(point.Entry, All(k, true), [new StateModifier(WriteFate.Torn, w, mask)], "torn");
        }
    }

    /// <summary>Each volatile write that a later volatile write overlaps lands last, so its older version shows.</summary>
    private static IEnumerable<CrashState> Versions(CrashPoint point)
    {
        int k = point.Volatile.Count;
        // Sort by offset so overlap is found in O(k log k + overlaps), not by comparing every pair.
        int[] byOffset = Enumerable.Range(0, k).OrderBy(i => point.Volatile[i].Offset).ToArray();
        var overlapped = new bool[k];
        long reach = long.MinValue;
        int reachWrite = -1;
        foreach (int i in byOffset)
        {
            LoggedWrite w = point.Volatile[i];
            if (reachWrite >= 0 && w.Offset < reach)
                overlapped[Math.Min(i, reachWrite)] = true;
            if (w.End > reach) { reach = w.End; reachWrite = i; }
        }
        for (int i = 0; i < k; i++)
            if (overlapped[i])
                yield return new CrashState(point.Entry, All(k, true), [new StateModifier(WriteFate.OlderVersion, i)], "versions");
    }

    private static IEnumerable<CrashState> Corrupt(CrashPoint point)
    {
        int k = point.Volatile.Count;
        for (int w = 0; w < k; w++)
        {
            yield return new CrashState(point.Entry, All(k, true), [new StateModifier(WriteFate.Zeroed, w)], "corrupt");
            if (!point.Volatile[w].IsZeroes)
                yield return new CrashState(point.Entry, All(k, true), [new StateModifier(WriteFate.Garbage, w)], "corrupt");
        }
    }

    private static BitArray All(int k, bool value) => new(k, value);

    /// <summary>Crash points chosen by presets (flush, fua, mark, end, all) and entry ranges (entry:N-M), ascending.</summary>
    public static int[] SelectPoints(LogIndex index, string spec)
    {
        var points = new SortedSet<int>();
        int count = index.Count;
        foreach (string raw in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            switch (raw)
            {
                case "flush": foreach (int e in index.Flushes) points.Add(e); break;
                case "fua": foreach (int e in index.Fuas) points.Add(e); break;
                case "mark":
                    foreach ((int e, string name) in index.MarkNames)
                        if (!IsBookkeeping(name)) points.Add(e);
                    break;
                case "end": if (count > 0) points.Add(LastContentOrEnd(index)); break;
                case "all": for (int e = 0; e < count; e++) points.Add(e); break;
                default:
                    if (!raw.StartsWith("entry:", StringComparison.Ordinal))
                        throw new FormatException($"--points: '{raw}' is not one of flush, fua, mark, end, all, entry:N-M");
                    string[] range = raw["entry:".Length..].Split('-');
                    if (range.Length is < 1 or > 2 || !int.TryParse(range[0], out int from) || !int.TryParse(range[^1], out int to) || from < 0 || to < from)
                        throw new FormatException($"--points: '{raw}' is not a range entry:N-M with 0 <= N <= M");
                    if (from >= count)
                        throw new FormatException($"--points: '{raw}' starts past the log's last entry ({count - 1})");
                    for (int e = from; e <= Math.Min(to, count - 1); e++) points.Add(e);
                    break;
            }
        }
        return points.ToArray();
    }

    /// <summary>Marks the tools write for themselves (the end of a cleanly closed log, the device size), not the test.</summary>
    private static bool IsBookkeeping(string mark) =>
        mark == LogSuperBlock.EndMarkName
        || ((string[])[Capture.CaptureLog.SizeMarkPrefix, Capture.PowerFailMarks.WriteBackPrefix, Capture.PowerFailMarks.KeepPrefix,
            Capture.PowerFailMarks.KeptPrefix, FailedFlushMark.Prefix]).Any(p => mark.StartsWith(p, StringComparison.Ordinal));

    /// <summary>Keeps the points after the first mark named <paramref name="mark"/> (e.g. the one a test puts after mkfs).</summary>
    public static int[] After(LogIndex index, int[] points, string mark)
    {
        int at = index.FindMark(mark);
        if (at < 0)
            throw new FormatException($"--after-mark {mark}: the log has no mark of that name (fastlog inspect lists its marks)");
        return points.Where(p => p > at).ToArray();
    }

    /// <summary>The end of the log: its last entry, not counting the end mark a clean close appends.</summary>
    private static int LastContentOrEnd(LogIndex index)
    {
        int last = index.Count - 1;
        while (last > 0 && index[last].IsMark && index.MarkNameAt(last) == LogSuperBlock.EndMarkName)
            last--;
        return last;
    }
}
