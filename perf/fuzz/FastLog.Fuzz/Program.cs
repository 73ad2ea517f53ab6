using System.Security.Cryptography;
using FastLog.LogFormat;
using FastLog.Replay;

namespace FastLog.Fuzz;

/// <summary>
/// AFL++ target (through SharpFuzz) of everything that reads an untrusted log: <see cref="LogReader"/> with and
/// without a scan (headers and payloads), <see cref="LogIndex"/>, the saved index (<see cref="LogIndexFile"/>: a
/// saved index must give exactly what a fresh pass gives), <see cref="LogStatistics"/>, and <see cref="LogReplayer"/>
/// onto the block device named by FASTLOG_FUZZ_DEVICE (perf/fuzz/run sets up a small loop device).
/// </summary>
/// <remarks>
/// A <see cref="LogFormatException"/> is the expected answer to a bad log, and a replay may end in exit 1 with its
/// message; any other exception escapes and is a crash for AFL, as is a broken invariant: the log file changed,
/// the device's size changed, or a saved index that differs from a fresh one. <c>FastLog.Fuzz seed DIR</c> writes
/// the seed corpus (a few tiny valid logs) with <see cref="LogWriter"/>. Outside afl-fuzz the target runs once on
/// standard input, which reproduces a finding: <c>dotnet FastLog.Fuzz.dll &lt; crash</c>.
/// </remarks>
public static class Program
{
    private static string? _dir;

    public static int Main(string[] args)
    {
        if (args is ["seed", string seedDir])
        {
            Seeds.Write(seedDir, Environment.GetEnvironmentVariable("FASTLOG_FUZZ_DEVICE") is { Length: > 0 } d ? DeviceBytes(d) : 64 << 10);
            return 0;
        }
        SharpFuzz.Fuzzer.OutOfProcess.Run(Check);
        return 0;
    }

    private static void Check(Stream input)
    {
        string device = Environment.GetEnvironmentVariable("FASTLOG_FUZZ_DEVICE") is { Length: > 0 } d
            ? d : throw new InvalidOperationException("FASTLOG_FUZZ_DEVICE must name the small block device to replay onto");
        _dir ??= Directory.CreateTempSubdirectory("fastlog-fuzz-").FullName;
        string log = Path.Combine(_dir, "input.log");
        using (var file = File.Create(log))
            input.CopyTo(file);
        File.Delete(LogIndexFile.PathFor(log));
        byte[] hash = SHA256.HashData(File.ReadAllBytes(log));
        long deviceSize = DeviceBytes(device);

        foreach (bool scan in (bool[])[false, true])
        {
            ReadAll(log, scan);
            IndexAndStatistics(log, scan);
            Replay(log, device, scan);
            Require(SHA256.HashData(File.ReadAllBytes(log)).AsSpan().SequenceEqual(hash), "the log file changed");
            Require(DeviceBytes(device) == deviceSize, $"the device's size changed from {deviceSize} to {DeviceBytes(device)}");
        }
    }

    /// <summary>Every header, and every payload byte, as a reader of the log sees them.</summary>
    private static void ReadAll(string log, bool scan)
    {
        try
        {
            using var reader = LogReader.Open(log, new LogReaderOptions { ScanPastEntryCount = scan, BufferSize = 1 << 16 });
            while (reader.TryReadNext(out LogEntry entry))
            {
                _ = reader.CurrentHeaderSector;
                for (long done = 0, n; done < entry.PayloadLength; done += n)
                    Require((n = reader.ReadPayload(entry, done).Length) > 0, "ReadPayload returned nothing before the payload's end");
            }
        }
        catch (LogFormatException)
        {
        }
    }

    /// <summary>A fresh index, its statistics, then the index saved and loaded again, which must be the same.</summary>
    private static void IndexAndStatistics(string log, bool scan)
    {
        LogIndex fresh;
        try
        {
            fresh = LogIndex.Build(log, scan);
        }
        catch (LogFormatException)
        {
            return; // a bad super block: nothing to index
        }
        _ = LogStatistics.Of(fresh);
        File.Delete(LogIndexFile.PathFor(log));
        LogIndexFile.OpenOrBuild(log, scan); // builds and saves
        LogIndex loaded = LogIndexFile.OpenOrBuild(log, scan); // loads what was saved
        Require(loaded.Count == fresh.Count && loaded.Entries.SequenceEqual(fresh.Entries, EntryComparer.Instance), "the saved index's entries differ from a fresh pass's");
        Require(loaded.Damage?.Message == fresh.Damage?.Message && loaded.NrEntries == fresh.NrEntries && loaded.ScanStopReason == fresh.ScanStopReason,
            "the saved index's header differs from a fresh pass's");
        Require(loaded.MarkNames.Count == fresh.MarkNames.Count && loaded.MarkNames.All(m => fresh.MarkNameAt(m.Key) == m.Value), "the saved index's marks differ");
        _ = LogStatistics.Of(loaded);
    }

    private static void Replay(string log, string device, bool scan)
    {
        var error = new StringWriter();
        int code = new LogReplayer(new ReplayOptions { LogPath = log, ReplayPath = device, Scan = scan }, TextWriter.Null, error).Run();
        Require(code is 0 or 1, $"replay exit {code}");
        Require(!error.ToString().Contains("Error writing data"), $"the kernel had to refuse a write: {error}");
    }

    private static long DeviceBytes(string device) => LogFileIdentity.Of(device).Length;

    private static void Require(bool condition, string broken)
    {
        if (!condition)
            throw new InvariantBrokenException(broken);
    }

    private sealed class EntryComparer : IEqualityComparer<LogIndexEntry>
    {
        public static readonly EntryComparer Instance = new();
        public bool Equals(LogIndexEntry a, LogIndexEntry b) =>
            a.HeaderOffset == b.HeaderOffset && a.Sector == b.Sector && a.NrSectors == b.NrSectors && a.Flags == b.Flags && a.Epoch == b.Epoch;
        public int GetHashCode(LogIndexEntry e) => HashCode.Combine(e.HeaderOffset, e.Sector);
    }
}

/// <summary>An invariant of the list that a run broke: a crash for AFL, like any unexpected exception.</summary>
public sealed class InvariantBrokenException(string message) : Exception(message);
