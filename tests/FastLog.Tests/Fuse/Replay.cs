using FastLog.LogFormat;

namespace FastLog.Tests.Fuse;

/// <summary>
/// A streaming replay of a dm-log-writes v1 log onto an image, written against the format alone (the
/// project's replay command lives on another branch; swap to it when merged). Writes copy their payload,
/// DISCARD zeroes its range (FastLog's file backend reads a discarded range back as zeros).
/// </summary>
internal static class Replay
{
    /// <summary>
    /// Applies every entry up to the super block's count (or the last complete one); returns how many. With
    /// <paramref name="scan"/>, goes on past the count (which a killed writer leaves stale) to the last complete,
    /// well-formed entry.
    /// </summary>
    public static long Apply(string logPath, string imagePath, bool scan = false)
    {
        using var log = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20);
        using var image = new FileStream(imagePath, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        byte[] first = new byte[4096];
        int got = log.ReadAtLeast(first, 512, throwOnEndOfStream: false);
        var super = LogSuperBlock.Read(first.AsSpan(0, got), logPath);
        int ss = (int)super.SectorSize;
        log.Position = ss;
        byte[] header = new byte[ss];
        byte[] payload = new byte[1 << 20];
        byte[] zeros = new byte[1 << 20];
        long applied = 0;
        long imageSectors = image.Length / ss;
        for (ulong i = 0; scan || i < super.EntryCount; i++)
        {
            if (log.ReadAtLeast(header, ss, throwOnEndOfStream: false) < ss)
                break;
            var entry = LogEntryHeader.ReadFrom(header);
            if (scan && i >= super.EntryCount && !Plausible(entry, imageSectors))
                break;
            long bytes = (long)entry.PayloadSectors * ss;
            if (entry.IsMark || entry.IsFlush)
            {
                applied++;
                continue;
            }
            long position = (long)entry.Sector * ss;
            if (entry.IsDiscard)
            {
                for (long done = 0, length = (long)entry.NrSectors * ss; done < length;)
                {
                    int part = (int)Math.Min(zeros.Length, length - done);
                    image.Position = position + done;
                    image.Write(zeros, 0, part);
                    done += part;
                }
                applied++;
                continue;
            }
            long startOfPayload = log.Position;
            for (long done = 0; done < bytes;)
            {
                int part = (int)Math.Min(payload.Length, bytes - done);
                if (log.ReadAtLeast(payload.AsSpan(0, part), part, throwOnEndOfStream: false) < part)
                    return applied; // torn last entry: stop at the last complete one
                image.Position = position + done;
                image.Write(payload, 0, part);
                done += part;
            }
            applied++;
        }
        return applied;
    }

    private static bool Plausible(LogEntryHeader entry, long imageSectors)
    {
        if ((entry.Flags & ~LogEntryFlags.Known) != 0)
            return false;
        if (entry.IsMark)
            return entry.DataLength > 0 && entry.NrSectors == 0;
        if (entry.IsFlush && entry.NrSectors == 0)
            return true;
        return entry.NrSectors > 0 && entry.Sector + entry.NrSectors <= (ulong)imageSectors;
    }

    public static void AssertIdentical(string expectedPath, string actualPath)
    {
        (int exit, string output) = Shell.Run($"cmp {expectedPath} {actualPath}", 120);
        Assert.True(exit == 0, $"replayed image differs from the backing store: {output}");
    }
}
