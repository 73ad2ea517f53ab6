using System.IO.Hashing;
using System.Text;

namespace FastLog.Explorer;

/// <summary>Builds the overlay that shows a <see cref="CrashState"/> on top of a durable image.</summary>
public static class StateOverlay
{
    /// <summary>
    /// The writes that reach the media in <paramref name="state"/>, in the order they land: the FUA writes and the
    /// persisted volatile writes in log order (torn ones as their persisted units, zeroed or garbage ones as such),
    /// then any write the state says landed last. <paramref name="durableDelta"/> (writes that are durable at the crash
    /// point but not yet in the durable image the overlay sits on) goes first.
    /// </summary>
    public static Overlay Build(CrashPoint point, CrashState state, int atomicUnit, IReadOnlyList<LoggedWrite>? durableDelta = null)
    {
        if (state.Persisted.Length != point.Volatile.Count)
            throw new ArgumentException($"state {state.Id} has {state.Persisted.Length} volatile writes, its crash point {point.Volatile.Count}");
        var landing = new List<OverlayExtent>((durableDelta?.Count ?? 0) + point.Fua.Count + point.Volatile.Count);
        if (durableDelta is not null)
            foreach (LoggedWrite w in durableDelta)
                landing.Add(Whole(w));
        int lastToLand = -1;
        foreach (StateModifier m in state.Modifiers)
            if (m.Fate == WriteFate.OlderVersion) lastToLand = m.Write;
        int fua = 0;
        for (int v = 0; v <= point.Volatile.Count; v++)
        {
            int entry = v < point.Volatile.Count ? point.Volatile[v].Entry : int.MaxValue;
            for (; fua < point.Fua.Count && point.Fua[fua].Entry < entry; fua++)
                landing.Add(Whole(point.Fua[fua]));
            if (v == point.Volatile.Count || !state.Persisted[v] || v == lastToLand)
                continue;
            AddVolatile(landing, point.Volatile[v], v, state, atomicUnit);
        }
        if (lastToLand >= 0)
            AddVolatile(landing, point.Volatile[lastToLand], lastToLand, state, atomicUnit);
        return Overlay.Resolve(landing, GarbageSeed(state));
    }

    private static void AddVolatile(List<OverlayExtent> landing, LoggedWrite write, int index, CrashState state, int atomicUnit)
    {
        foreach (StateModifier m in state.Modifiers)
        {
            if (m.Write != index) continue;
            switch (m.Fate)
            {
                case WriteFate.Zeroed:
                    landing.Add(new OverlayExtent(write.Offset, write.Length, OverlayExtent.Zeros));
                    return;
                case WriteFate.Garbage:
                    landing.Add(new OverlayExtent(write.Offset, write.Length, OverlayExtent.Garbage));
                    return;
                case WriteFate.Torn:
                    foreach ((long offset, long length) in TornPieces(write, m.Units, atomicUnit))
                        landing.Add(new OverlayExtent(offset, length, write.IsZeroes ? OverlayExtent.Zeros : write.PayloadOffset + (offset - write.Offset)));
                    return;
            }
        }
        landing.Add(Whole(write));
    }

    /// <summary>
    /// The byte ranges of <paramref name="write"/> that persist under unit mask <paramref name="units"/>: the write is
    /// cut into min(64, length / atomicUnit) pieces of whole atomic units (the last one takes the remainder).
    /// </summary>
    public static IEnumerable<(long Offset, long Length)> TornPieces(LoggedWrite write, ulong units, int atomicUnit)
    {
        long total = write.Length / atomicUnit;
        int pieces = (int)Math.Clamp(total, 1, 64);
        long perPiece = total / pieces;
        for (int i = 0; i < pieces; i++)
        {
            if ((units >> i & 1) == 0) continue;
            long start = write.Offset + i * perPiece * atomicUnit;
            long end = i == pieces - 1 ? write.End : start + perPiece * atomicUnit;
            yield return (start, end - start);
        }
    }

    private static OverlayExtent Whole(LoggedWrite w) => new(w.Offset, w.Length, w.IsZeroes ? OverlayExtent.Zeros : w.PayloadOffset);

    private static ulong GarbageSeed(CrashState state) => XxHash64.HashToUInt64(Encoding.ASCII.GetBytes(state.Id));
}
