using System.IO.Hashing;
using CommunityToolkit.HighPerformance.Buffers;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Win32.SafeHandles;

namespace FastLog.Explorer;

/// <summary>A run of device bytes that a state changes, and where they come from.</summary>
/// <param name="Source">Byte offset in the log of the run's first byte, or <see cref="Zeros"/> / <see cref="Garbage"/>.</param>
public readonly record struct OverlayExtent(long Offset, long Length, long Source)
{
    public const long Zeros = -1, Garbage = -2;
    public long End => Offset + Length;
}

/// <summary>
/// What a state puts on top of the durable image: sorted, disjoint extents pointing into the log (no copies of
/// data), built from the writes that reach the media in log order, later writes winning. Built in
/// O(w log w) for w writes, read by binary search.
/// </summary>
public sealed class Overlay
{
    private readonly OverlayExtent[] _extents;

    private Overlay(OverlayExtent[] extents, ulong garbageSeed)
    {
        _extents = extents;
        GarbageSeed = garbageSeed;
    }

    public static Overlay Empty { get; } = new([], 0);

    public ReadOnlySpan<OverlayExtent> Extents => _extents;
    internal ulong GarbageSeed { get; }
    public long Bytes => _extents.Sum(e => e.Length);

    /// <summary>
    /// Resolves <paramref name="writes"/> (in the order they reach the media: the last one wins where they overlap).
    /// </summary>
    public static Overlay Resolve(IReadOnlyList<OverlayExtent> writes, ulong garbageSeed = 0)
    {
        // Newest first: each write contributes only the parts no newer write covers. `covered` holds disjoint,
        // sorted, merged intervals of what is already decided. Both lists are pooled: an explorer resolves an
        // overlay for every state it plans, hundreds a second, and only the final array is kept.
        List<(long Start, long End)> covered = CoveredPool.Get();
        List<OverlayExtent> result = ResultPool.Get();
        try
        {
            return Resolve(writes, garbageSeed, covered, result);
        }
        finally
        {
            CoveredPool.Return(covered);
            ResultPool.Return(result);
        }
    }

    private static readonly ObjectPool<List<(long Start, long End)>> CoveredPool = new DefaultObjectPool<List<(long Start, long End)>>(new ListPolicy<(long, long)>());
    private static readonly ObjectPool<List<OverlayExtent>> ResultPool = new DefaultObjectPool<List<OverlayExtent>>(new ListPolicy<OverlayExtent>());

    /// <summary>Lists come back empty; one that grew past a large epoch's size is dropped rather than kept forever.</summary>
    private sealed class ListPolicy<T> : PooledObjectPolicy<List<T>>
    {
        public override List<T> Create() => new(64);

        public override bool Return(List<T> list)
        {
            list.Clear();
            return list.Capacity <= 1 << 16;
        }
    }

    private static Overlay Resolve(IReadOnlyList<OverlayExtent> writes, ulong garbageSeed, List<(long Start, long End)> covered, List<OverlayExtent> result)
    {
        for (int w = writes.Count - 1; w >= 0; w--)
        {
            OverlayExtent write = writes[w];
            if (write.Length <= 0) continue;
            long start = write.Offset, end = write.End;
            int i = FirstEndingAfter(covered, start);
            long cursor = start;
            int firstMerged = i;
            long mergedStart = start, mergedEnd = end;
            while (i < covered.Count && covered[i].Start < end)
            {
                if (covered[i].Start > cursor)
                    result.Add(Piece(write, cursor, covered[i].Start));
                cursor = Math.Max(cursor, covered[i].End);
                mergedStart = Math.Min(mergedStart, covered[i].Start);
                mergedEnd = Math.Max(mergedEnd, covered[i].End);
                i++;
            }
            if (cursor < end)
                result.Add(Piece(write, cursor, end));
            covered.RemoveRange(firstMerged, i - firstMerged);
            covered.Insert(firstMerged, (mergedStart, mergedEnd));
        }
        result.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        return new Overlay(result.ToArray(), garbageSeed);
    }

    private static OverlayExtent Piece(OverlayExtent write, long start, long end) =>
        new(start, end - start, write.Source >= 0 ? write.Source + (start - write.Offset) : write.Source);

    private static int FirstEndingAfter(List<(long Start, long End)> intervals, long position)
    {
        int lo = 0, hi = intervals.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (intervals[mid].End <= position) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Index of the first extent that ends after <paramref name="offset"/> (may start after it).</summary>
    public int FirstAtOrAfter(long offset)
    {
        int lo = 0, hi = _extents.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_extents[mid].End <= offset) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Fills <paramref name="destination"/> with the overlay's bytes for <paramref name="extent"/>'s part at <paramref name="offset"/>.</summary>
    internal void ReadExtent(SafeFileHandle log, in OverlayExtent extent, long offset, Span<byte> destination)
    {
        switch (extent.Source)
        {
            case OverlayExtent.Zeros:
                destination.Clear();
                break;
            case OverlayExtent.Garbage:
                FillGarbage(GarbageSeed, offset, destination);
                break;
            default:
                long at = extent.Source + (offset - extent.Offset);
                while (!destination.IsEmpty)
                {
                    int n = RandomAccess.Read(log, destination, at);
                    if (n <= 0) throw new IOException($"the log ended at byte {at} inside an entry's payload (was it truncated?)");
                    destination = destination[n..];
                    at += n;
                }
                break;
        }
    }

    /// <summary>Random-looking bytes that depend only on the seed and the device offset, so a state reads the same twice.</summary>
    internal static void FillGarbage(ulong seed, long offset, Span<byte> destination)
    {
        for (int i = 0; i < destination.Length;)
        {
            long word = (offset + i) & ~7L;
            var random = new SplitMix64(seed ^ (ulong)word);
            ulong value = random.Next();
            for (int b = (int)((offset + i) & 7); b < 8 && i < destination.Length; b++, i++)
                destination[i] = (byte)(value >> (b * 8));
        }
    }

    /// <summary>
    /// A hash of exactly the bytes this overlay puts on the device and where: two overlays over the same durable image
    /// with equal hashes present the same device (up to a 128-bit collision).
    /// </summary>
    public UInt128 ContentHash(SafeFileHandle log)
    {
        var hash = new XxHash128();
        using SpanOwner<byte> pooled = SpanOwner<byte>.Allocate(1 << 16);
        Span<byte> buffer = pooled.Span;
        Span<byte> header = stackalloc byte[16];
        foreach (OverlayExtent e in _extents)
        {
            BitConverter.TryWriteBytes(header, e.Offset);
            BitConverter.TryWriteBytes(header[8..], e.Length);
            hash.Append(header);
            for (long done = 0; done < e.Length;)
            {
                int n = (int)Math.Min(buffer.Length, e.Length - done);
                ReadExtent(log, e, e.Offset + done, buffer[..n]);
                hash.Append(buffer[..n]);
                done += n;
            }
        }
        return hash.GetCurrentHashAsUInt128();
    }
}
