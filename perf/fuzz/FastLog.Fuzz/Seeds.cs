using FastLog.LogFormat;

namespace FastLog.Fuzz;

/// <summary>The seed corpus: a few tiny valid logs, every entry kind, both sector sizes, sized for the fuzz device.</summary>
internal static class Seeds
{
    public static void Write(string directory, long deviceBytes)
    {
        Directory.CreateDirectory(directory);
        Log(directory, "writes-512", 512, w =>
        {
            w.AppendWrite(0, Payload(512, 1));
            w.AppendWrite(1, Payload(1024, 2), LogEntryFlags.Fua);
        });
        Log(directory, "mixed-512", 512, w =>
        {
            w.AppendMark("start");
            w.AppendWrite((ulong)(deviceBytes / 512 - 2), Payload(1024, 3), LogEntryFlags.Metadata);
            w.AppendFlush();
            w.AppendDiscard(2, 4);
            w.AppendMark("end");
        });
        Log(directory, "marks-4096", 4096, w =>
        {
            w.AppendMark("size=" + deviceBytes);
            w.AppendWrite(3, Payload(4096, 4));
            w.AppendFlush();
            w.AppendWrite(3, Payload(4096, 5), LogEntryFlags.Fua | LogEntryFlags.Flush);
        });
        Log(directory, "empty-512", 512, _ => { });
    }

    private static void Log(string directory, string name, int sectorSize, Action<LogWriter> entries)
    {
        using var writer = LogWriter.Create(Path.Combine(directory, name), sectorSize);
        entries(writer);
    }

    private static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
