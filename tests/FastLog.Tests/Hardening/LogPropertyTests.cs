using System.Buffers.Binary;
using System.Security.Cryptography;
using CsCheck;
using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>
/// Property-based tests (CsCheck) of the reader, the index and replay on hostile logs: valid logs are generated
/// with LogWriter and mutated (bit flips, truncation, splices, extreme field values). For every mutant the reader
/// and the index either succeed or raise a LogFormatException that names the file (and the entry and byte offset
/// where one applies), never another exception; a saved index, even damaged, gives exactly what a fresh pass
/// gives; a replay onto a real 64 KiB loop device leaves exactly what applying the reader's valid entries leaves,
/// and an entry that would reach past the device is damage, never a write the kernel has to refuse; the log file
/// itself is never changed.
/// </summary>
/// <remarks>
/// The normal suite runs <see cref="DefaultCases"/> cases (a few seconds). For a longer run set
/// FASTLOG_PROPERTY_CASES, e.g. <c>FASTLOG_PROPERTY_CASES=20000 dotnet test tests/FastLog.Tests -c Release
/// --filter FullyQualifiedName~LogPropertyTests</c>; a failure prints CsCheck's seed, which
/// FASTLOG_PROPERTY_SEED replays.
/// </remarks>
[Collection("loop")]
public sealed class LogPropertyTests : IDisposable
{
    private const int DefaultCases = 150;
    private const int DeviceSize = 64 << 10;
    private static readonly ulong[] Extremes =
        [0, 1, 127, 128, 1UL << 31, uint.MaxValue, 1UL << 53, (1UL << 54) - 1, 1UL << 54, 1UL << 62, long.MaxValue, 1UL << 63, ulong.MaxValue];

    private readonly LoopImage _device = new(DeviceSize);
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        _dir.Dispose();
        _device.Dispose();
    }

    /// <summary>One entry to generate: kind 0 write, 1 discard, 2 flush, 3 mark; sector and length as fractions of the device.</summary>
    public readonly record struct Op(int Kind, int Sector, int Length, int Flags);

    /// <summary>Kind 0 bit flip, 1 truncation, 2 splice, 3 an extreme value in a header or super block field.</summary>
    public readonly record struct Mutation(int Kind, int Position, int Other, int Value);

    public sealed record Case(bool BigSectors, Op[] Ops, Mutation[] Mutations, int IndexFlip);

    private static readonly Gen<Case> Cases = Gen.Select(
        Gen.Bool,
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 1 << 20], Gen.Int[1, 8], Gen.Int[0, 3], (k, s, l, f) => new Op(k, s, l, f)).Array[0, 12],
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], Gen.Int[0, Extremes.Length - 1],
            (k, p, o, v) => new Mutation(k, p, o, v)).Array[0, 3],
        Gen.Int[-1, int.MaxValue],
        (big, ops, mutations, flip) => new Case(big, ops, mutations, flip));

    [Fact]
    public void EveryMutantIsReadIndexedAndReplayedCleanlyOrReportedAsDamage()
    {
        long cases = long.TryParse(Environment.GetEnvironmentVariable("FASTLOG_PROPERTY_CASES"), out long n) ? n : DefaultCases;
        Cases.Sample(Check, seed: Environment.GetEnvironmentVariable("FASTLOG_PROPERTY_SEED"), iter: cases, threads: 1,
            print: c => $"{(c.BigSectors ? 4096 : 512)}-byte sectors, ops [{string.Join(", ", c.Ops)}], mutations [{string.Join(", ", c.Mutations)}], index flip {c.IndexFlip}");
    }

    private void Check(Case c)
    {
        string log = _dir.File("mutant.log");
        File.Delete(LogIndexFile.PathFor(log));
        byte[] bytes = Mutate(Generate(c), c.Mutations, c.BigSectors ? 4096 : 512);
        File.WriteAllBytes(log, bytes);
        byte[] hash = SHA256.HashData(bytes);

        (byte[] expected, bool expectFailure, bool emptyLog) = ReadAsModel(log);
        CheckIndex(log, c.IndexFlip);
        ZeroDevice();
        (int code, _, string err) = HostileReplay.Run(log, _device.Device);

        Assert.True(code == (expectFailure ? 1 : 0), $"exit {code}, expected {(expectFailure ? 1 : 0)}: {err}");
        if (code == 1 && emptyLog)
            Assert.Equal("Invalid entry number\n", err); // replay-log's answer to nr_entries 0: there is no entry 0
        else if (code == 1)
        {
            Assert.StartsWith(log, err);
            Assert.DoesNotContain("Error writing data", err); // the kernel never had to refuse a write
        }
        Assert.Equal(expected, ReadDevice());
        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(log)));
    }

    private static byte[] Generate(Case c)
    {
        int sectorSize = c.BigSectors ? 4096 : 512;
        int sectors = DeviceSize / sectorSize;
        using var stream = new MemoryStream();
        string path = Path.Combine(Path.GetTempPath(), $"fastlog-prop-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.log");
        using (var writer = LogWriter.Create(path, sectorSize))
        {
            int seed = 0;
            foreach (Op op in c.Ops)
            {
                int length = Math.Min(op.Length, sectors);
                ulong sector = (ulong)(op.Sector % (sectors - length + 1));
                switch (op.Kind)
                {
                    case 0: writer.AppendWrite(sector, LogBytes.Pattern(length * sectorSize, ++seed), (LogEntryFlags)(op.Flags & 3) switch
                        {
                            (LogEntryFlags)1 => LogEntryFlags.Fua,
                            (LogEntryFlags)2 => LogEntryFlags.Metadata,
                            (LogEntryFlags)3 => LogEntryFlags.Flush,
                            _ => LogEntryFlags.None,
                        }); break;
                    case 1: writer.AppendDiscard(sector, (ulong)length); break;
                    case 2: writer.AppendFlush(); break;
                    default: writer.AppendMark($"m{op.Sector % 1000}"); break;
                }
            }
        }
        byte[] bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    private static byte[] Mutate(byte[] log, Mutation[] mutations, int sectorSize)
    {
        foreach (Mutation m in mutations)
        {
            if (log.Length == 0)
                break;
            int at = m.Position % log.Length;
            switch (m.Kind)
            {
                case 0:
                    log[at] ^= (byte)(1 << (m.Other % 8));
                    break;
                case 1:
                    log = log[..at];
                    break;
                case 2:
                    int from = m.Other % log.Length;
                    int count = Math.Min(Math.Min(1 + m.Value * 97, log.Length - from), log.Length - at);
                    Array.Copy(log, from, log, at, count);
                    break;
                default:
                    // A header field (sector, nr_sectors, flags, data_len) of one entry, or nr_entries in the super block.
                    int headers = log.Length / sectorSize;
                    int field = m.Other % 5;
                    int offset = field == 4 ? 16 : (at / sectorSize) % Math.Max(headers, 1) * sectorSize + field * 8;
                    if (offset + 8 <= log.Length)
                        BinaryPrimitives.WriteUInt64LittleEndian(log.AsSpan(offset), Extremes[m.Value]);
                    break;
            }
        }
        return log;
    }

    /// <summary>
    /// Reads the log entry by entry and applies each entry as replay-log would to an in-memory device. Returns
    /// the device and whether replay must fail: damage, an entry reaching past the device, or nr_entries 0.
    /// </summary>
    private static (byte[] Device, bool Fails, bool Empty) ReadAsModel(string log)
    {
        var device = new byte[DeviceSize];
        try
        {
            using var reader = LogReader.Open(log);
            if (reader.DeclaredEntryCount == 0)
                return (device, true, true);
            while (reader.TryReadNext(out LogEntry entry))
            {
                LogEntryHeader h = entry.Header;
                long size = (long)h.NrSectors * reader.SectorSize;
                long offset = (long)h.Sector * reader.SectorSize;
                if (size == 0)
                    continue;
                if (offset + size > DeviceSize)
                    return (device, true, false);
                if (h.IsDiscard)
                    Array.Clear(device, (int)offset, (int)size);
                else
                    reader.CopyPayload(entry, device.AsSpan((int)offset, (int)size));
            }
            return (device, false, false);
        }
        catch (LogFormatException e)
        {
            AssertNamesWhere(e, log);
            return (device, true, false);
        }
    }

    /// <summary>
    /// Indexes with and without a scan, then damages the saved index and loads again: the loaded index must be
    /// exactly the fresh one. Only LogFormatException may come out, naming where.
    /// </summary>
    private static void CheckIndex(string log, int flip)
    {
        foreach (bool scan in (bool[])[true, false])
        {
            LogIndex fresh;
            try
            {
                fresh = LogIndexFile.OpenOrBuild(log, scan);
            }
            catch (LogFormatException e) // the super block: nothing to index
            {
                AssertNamesWhere(e, log);
                return;
            }
            if (fresh.Damage is { } damage)
                AssertNamesWhere(damage, log);
            string saved = LogIndexFile.PathFor(log);
            if (flip >= 0 && File.Exists(saved))
            {
                byte[] index = File.ReadAllBytes(saved);
                index[flip % index.Length] ^= (byte)(1 << (flip % 8));
                File.WriteAllBytes(saved, index);
            }
            Assert.Equal(Describe(fresh), Describe(LogIndexFile.OpenOrBuild(log, scan)));
            Assert.Equal(Describe(fresh), Describe(LogIndexFile.OpenOrBuild(log, scan))); // and once more from the rewritten file
        }
    }

    private static string Describe(LogIndex index) => string.Join(";",
        index.Entries.ToArray().Select((e, i) => $"{e.HeaderOffset},{e.Sector},{e.NrSectors},{e.Flags},{e.Epoch},{index.MarkNameAt(i)}"))
        + $"|{index.Damage?.Message}|{index.ScanStopReason}|{index.NrEntries}";

    private static void AssertNamesWhere(LogFormatException e, string log)
    {
        Assert.Contains(log, e.Message);
        if (e.Entry >= 0)
            Assert.Contains($"entry {e.Entry} at byte offset {e.ByteOffset}", e.Message);
    }

    private void ZeroDevice()
    {
        using var stream = new FileStream(_device.Device, FileMode.Open, FileAccess.Write);
        stream.Write(new byte[DeviceSize]);
        stream.Flush(flushToDisk: true);
    }

    private byte[] ReadDevice()
    {
        using var stream = new FileStream(_device.Device, FileMode.Open, FileAccess.Read);
        var bytes = new byte[DeviceSize];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
