using FastLog.LogFormat;

namespace FastLog.Tests.Support;

/// <summary>Whole-log reading for tests of what was captured, through the library's reader (tested on its own bit for bit).</summary>
internal static class TestLog
{
    public sealed record Entry(LogEntryHeader Header, byte[] Payload, string? MarkName);

    public static (LogSuperBlock Super, List<Entry> Entries) ReadAll(string path)
    {
        using LogReader reader = LogReader.Open(path);
        var entries = new List<Entry>();
        while (reader.TryReadNext(out LogEntry e))
        {
            var payload = new byte[e.PayloadLength];
            reader.CopyPayload(e, payload);
            entries.Add(new Entry(e.Header, payload, e.MarkName));
        }
        return (reader.SuperBlock, entries);
    }

    public static byte[] ReplayOnto(List<Entry> entries, int size, int sectorSize = 512)
    {
        var image = new byte[size];
        foreach (var e in entries.Where(e => !e.Header.IsMark && !e.Header.IsFlush))
        {
            var range = image.AsSpan((int)e.Header.Sector * sectorSize, (int)e.Header.NrSectors * sectorSize);
            if (e.Header.IsDiscard) range.Clear(); else e.Payload.CopyTo(range);
        }
        return image;
    }
}
