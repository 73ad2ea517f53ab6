using FastLog.LogFormat;

namespace FastLog.Explorer;

/// <summary>A write as the crash model sees it: a byte range and where its bytes come from.</summary>
/// <param name="Entry">The log entry it came from.</param>
/// <param name="PayloadOffset">Byte offset of its data in the log, or -1 for a DISCARD / WRITE_ZEROES (reads zeros).</param>
public readonly record struct LoggedWrite(int Entry, long Offset, long Length, long PayloadOffset)
{
    public bool IsZeroes => PayloadOffset < 0;
    public long End => Offset + Length;
}

/// <summary>
/// A moment at which power may be cut: right after log entry <see cref="Entry"/> was logged, before the next one.
/// </summary>
/// <remarks>
/// The crash model, enforced here and nowhere else:
/// <list type="bullet">
/// <item>Every FLUSH entry before <see cref="Entry"/> has completed, so every write logged before the last of them
/// (<see cref="LastCompletedFlush"/>) is <b>durable</b>. This is the log's worst-case ordering: a flush covers exactly
/// the writes that completed before it arrived (dm-log-writes and FastLog's capture both log it that way). A
/// crash point that <i>is</i> a FLUSH entry means that flush did not complete: the epoch it would have covered is
/// still volatile, and the data a FLUSH entry may carry (written after its preflush) is not written at all.</item>
/// <item>A FUA write that was logged completed, so it is durable itself: it is in <see cref="Fua"/>, always applied.</item>
/// <item>Every other write, DISCARD or WRITE_ZEROES logged since the last completed FLUSH is <b>volatile</b>
/// (<see cref="Volatile"/>, in log order): it may or may not be on the media, in any order, possibly torn.</item>
/// </list>
/// A bound this model accepts on purpose: a FLUSH before the crash point may in truth still have been in flight
/// while later writes completed; its states are those of the crash point at the FLUSH entry itself, which the
/// default points include.
/// </remarks>
public sealed class CrashPoint
{
    internal CrashPoint(int entry, int lastCompletedFlush, int lastDurableContent, LoggedWrite[] volatileWrites, LoggedWrite[] fua, string? lastMark)
    {
        Entry = entry;
        LastCompletedFlush = lastCompletedFlush;
        LastDurableContent = lastDurableContent;
        Volatile = volatileWrites;
        Fua = fua;
        LastMark = lastMark;
    }

    public int Entry { get; }

    /// <summary>The last FLUSH entry before <see cref="Entry"/>, or -1: entries before it are durable.</summary>
    public int LastCompletedFlush { get; }

    /// <summary>
    /// The last entry that changed content before <see cref="LastCompletedFlush"/>, or -1. Two crash points with the
    /// same value have the same durable image, which lets identical states at different points be checked once.
    /// </summary>
    public int LastDurableContent { get; }

    /// <summary>Writes that may or may not have reached the media, in log order; a state chooses among them.</summary>
    public IReadOnlyList<LoggedWrite> Volatile { get; }

    /// <summary>FUA writes since the last completed flush: durable, applied in every state.</summary>
    public IReadOnlyList<LoggedWrite> Fua { get; }

    /// <summary>The last mark at or before <see cref="Entry"/>, if any.</summary>
    public string? LastMark { get; }

    /// <summary>Walks <paramref name="index"/> once and returns the crash point after every entry in <paramref name="entries"/> (ascending).</summary>
    public static IEnumerable<CrashPoint> At(LogIndex index, IEnumerable<int> entries)
    {
        int sectorSize = index.SectorSize;
        var window = new List<(LoggedWrite Write, bool Fua)>(); // content entries since the last completed flush
        int lastFlush = -1, lastContent = -1, lastDurableContent = -1, next = 0;
        string? lastMark = null;
        foreach (int point in entries)
        {
            for (; next < point; next++) // entries before the crash point: their FLUSHes completed
            {
                ref readonly LogIndexEntry e = ref index[next];
                if (e.IsMark)
                    lastMark = index.MarkNameAt(next);
                if ((index.CompletedFlags(next) & LogEntryFlags.Flush) != 0) // a FLUSH that failed is no durability point
                {
                    lastFlush = next;
                    lastDurableContent = lastContent;
                    window.Clear();
                }
                if (AsWrite(e, next, sectorSize) is { } write)
                {
                    window.Add((write, (e.Flags & LogEntryFlags.Fua) != 0));
                    lastContent = next;
                }
            }
            ref readonly LogIndexEntry crash = ref index[point];
            string? markHere = crash.IsMark ? index.MarkNameAt(point) : null;
            var volatileWrites = new List<LoggedWrite>(window.Count + 1);
            var fua = new List<LoggedWrite>();
            foreach ((LoggedWrite w, bool isFua) in window)
                (isFua ? fua : volatileWrites).Add(w);
            // The crash point's own entry was logged, so it completed, unless it is a FLUSH (then not even its data).
            if ((index.CompletedFlags(point) & LogEntryFlags.Flush) == 0 && AsWrite(crash, point, sectorSize) is { } last)
                ((crash.Flags & LogEntryFlags.Fua) != 0 ? fua : volatileWrites).Add(last);
            yield return new CrashPoint(point, lastFlush, lastDurableContent, volatileWrites.ToArray(), fua.ToArray(), markHere ?? lastMark);
        }
    }

    private static LoggedWrite? AsWrite(in LogIndexEntry e, int entry, int sectorSize)
    {
        if (e.NrSectors == 0 || e.IsMark)
            return null;
        long offset = checked((long)e.Sector * sectorSize), length = checked((long)e.NrSectors * sectorSize);
        return new LoggedWrite(entry, offset, length, e.IsDiscard ? -1 : e.HeaderOffset + sectorSize);
    }
}
