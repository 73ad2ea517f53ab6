using FastLog.LogFormat;

namespace FastLog.Tests.Capture;

/// <summary>
/// A deliberately naive reading of a whole log into memory, independent of the library's reader, so capture
/// tests check the bytes on disk against the format itself rather than against code they share.
/// </summary>
internal static class TestLog
{
    public sealed record Entry(LogEntryHeader Header, byte[] Payload, string? MarkName);

    public static (LogSuperBlock Super, List<Entry> Entries) ReadAll(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0) // a block device: File.ReadAllBytes sees no length
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read))
            {
                var memory = new MemoryStream();
                stream.CopyTo(memory);
                bytes = memory.ToArray();
            }
        var super = LogSuperBlock.Read(bytes, path);
        int ss = (int)super.SectorSize;
        var entries = new List<Entry>();
        long position = ss;
        for (ulong i = 0; i < super.EntryCount; i++)
        {
            var header = LogEntryHeader.ReadFrom(bytes.AsSpan((int)position));
            string? name = header.IsMark ? LogEntryHeader.ReadMarkName(bytes.AsSpan((int)position, ss), header) : null;
            int payload = (int)header.PayloadSectors * ss;
            entries.Add(new Entry(header, bytes.AsSpan((int)position + ss, payload).ToArray(), name));
            position += ss + payload;
        }
        return (super, entries);
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
