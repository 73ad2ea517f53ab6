using FastLog.LogFormat;
using FastLog.Replay;
using FastLog.Tests.Support;

namespace FastLog.Tests.Replay;

/// <summary>
/// A small log with every entry kind, written with LogWriter, plus an independent model of what replaying a
/// range of it must leave on the target (replay-log's rules restated, not FastLog's code).
/// </summary>
internal sealed class ReplayScenario : IDisposable
{
    public record Step(string Kind, ulong Sector, ulong NrSectors, LogEntryFlags Extra = 0, string? Name = null, byte[]? Data = null);

    public const int TargetSize = 1 << 20;
    public const byte Fill = 0xEE;
    private readonly TempDirectory _dir = new();

    public ReplayScenario(int sectorSize, IReadOnlyList<Step> steps)
    {
        SectorSize = sectorSize;
        var all = new List<Step>();
        LogPath = _dir.File("run.log");
        using (var writer = LogWriter.Create(LogPath, sectorSize))
        {
            int seed = 0;
            foreach (Step step in steps)
            {
                Step s = step;
                switch (s.Kind)
                {
                    case "W":
                        s = s with { Data = LogBytes.Pattern((int)s.NrSectors * sectorSize, ++seed) };
                        writer.AppendWrite(s.Sector, s.Data, s.Extra);
                        break;
                    case "D": writer.AppendDiscard(s.Sector, s.NrSectors); break;
                    case "F": writer.AppendFlush(); break;
                    case "M": writer.AppendMark(s.Name!); break;
                }
                all.Add(s);
            }
        }
        all.Add(new Step("M", 0, 0, Name: LogSuperBlock.EndMarkName));
        Steps = all;
        TargetPath = _dir.File("target.img");
        System.IO.File.WriteAllBytes(TargetPath, Enumerable.Repeat(Fill, TargetSize).ToArray());
    }

    /// <summary>The standard scenario (sector numbers chosen so 4 KiB-aligned discards can punch holes).</summary>
    public static ReplayScenario Standard(int sectorSize = 512) => new(sectorSize,
    [
        new("M", 0, 0, Name: "mkfs"),                 // 0
        new("W", 0, 8),                               // 1
        new("W", 8, 8),                               // 2
        new("W", 16, 8, LogEntryFlags.Fua),           // 3
        new("F", 0, 0),                               // 4
        new("D", 0, 8),                               // 5
        new("M", 0, 0, Name: "m1"),                   // 6
        new("W", 100, 16, LogEntryFlags.Metadata),    // 7
        new("W", 4, 2),                               // 8
        new("F", 0, 0),                               // 9
        new("W", 200, 8, LogEntryFlags.Fua),          // 10
        new("M", 0, 0, Name: "m2"),                   // 11
        new("W", 300, 8),                             // 12
    ]);                                               // 13: dm-log-writes-end

    public int SectorSize { get; }
    public string LogPath { get; }
    public string TargetPath { get; }
    public IReadOnlyList<Step> Steps { get; }
    public string File(string name) => _dir.File(name);

    /// <summary>The target after replaying entries first..last (inclusive) onto the 0xEE-filled image.</summary>
    public byte[] Expected(int first, int last, bool noDiscard = false, ulong startSector = 0, ulong endSector = ulong.MaxValue)
    {
        byte[] image = Enumerable.Repeat(Fill, TargetSize).ToArray();
        for (int i = first; i <= last; i++)
        {
            Step s = Steps[i];
            if (s.Kind == "D" && !noDiscard)
                Array.Clear(image, (int)s.Sector * SectorSize, (int)s.NrSectors * SectorSize);
            bool outside = s.Sector + s.NrSectors <= startSector || s.Sector > endSector;
            if (s.Kind == "W" && !outside)
                s.Data!.CopyTo(image, (int)s.Sector * SectorSize);
        }
        return image;
    }

    /// <summary>The log sector just past entry <paramref name="entry"/>: super sector + headers + payloads so far.</summary>
    public long LogSectorAfter(int entry)
    {
        long sector = 1;
        for (int i = 0; i <= entry; i++)
            sector += 1 + (Steps[i].Kind == "W" ? (long)Steps[i].NrSectors : 0);
        return sector;
    }

    public (int ExitCode, string Out, string Err, LogReplayer Replayer) Run(ReplayOptions options)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var replayer = new LogReplayer(options, output, error);
        int code = replayer.Run();
        return (code, output.ToString(), error.ToString(), replayer);
    }

    public ReplayOptions Options => new() { LogPath = LogPath, ReplayPath = TargetPath };

    public byte[] Target() => System.IO.File.ReadAllBytes(TargetPath);

    public void Dispose() => _dir.Dispose();
}
