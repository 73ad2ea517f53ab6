using System.Buffers.Binary;
using System.Text;

namespace FastLog.Workload;

/// <summary>
/// The journal's first 64 bytes: what the run was (everything verify needs to regenerate and judge its data).
/// Encoding: magic "FLSTRJNL" (8), version (4), unit size (4), seed (8), files (4), flags (4: bit 0 fdatasync),
/// file size (8), write size min (4) and max (4), fsync ratio (8, IEEE double), skip-fsync-every (4), CRC-32C of
/// the first 60 bytes (4); little-endian. Written and fdatasync'd before any file is touched, so a journal whose
/// header is incomplete belongs to a run that promised nothing.
/// </summary>
public sealed record StressJournalHeader(ulong Seed, int Files, long FileSize, int WriteMin, int WriteMax,
    double FsyncRatio, bool Fdatasync, int SkipFsyncEvery)
{
    public const int Size = 64;
    public const int Version = 1;
    private static ReadOnlySpan<byte> Magic => "FLSTRJNL"u8;

    public void WriteTo(Span<byte> destination)
    {
        destination[..Size].Clear();
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], StressContent.UnitSize);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], Seed);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], Files);
        BinaryPrimitives.WriteInt32LittleEndian(destination[28..], Fdatasync ? 1 : 0);
        BinaryPrimitives.WriteInt64LittleEndian(destination[32..], FileSize);
        BinaryPrimitives.WriteInt32LittleEndian(destination[40..], WriteMin);
        BinaryPrimitives.WriteInt32LittleEndian(destination[44..], WriteMax);
        BinaryPrimitives.WriteDoubleLittleEndian(destination[48..], FsyncRatio);
        BinaryPrimitives.WriteInt32LittleEndian(destination[56..], SkipFsyncEvery);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[60..], StressJournalRecord.Checksum(destination[..60]));
    }

    /// <summary>Whether <paramref name="prefix"/> (the file's first bytes, possibly fewer than <see cref="Size"/>)
    /// could be the start of a journal: it matches the magic as far as it goes.</summary>
    public static bool LooksLikeJournal(ReadOnlySpan<byte> prefix) =>
        Magic[..Math.Min(Magic.Length, prefix.Length)].SequenceEqual(prefix[..Math.Min(Magic.Length, prefix.Length)]);

    /// <summary>Decodes a complete header; the exception names what is wrong.</summary>
    public static StressJournalHeader Read(ReadOnlySpan<byte> source, string path)
    {
        if (!source[..Magic.Length].SequenceEqual(Magic))
            throw new StressJournalException($"{path}: not a stress journal (no FLSTRJNL magic)");
        if (BinaryPrimitives.ReadUInt32LittleEndian(source[60..]) != StressJournalRecord.Checksum(source[..60]))
            throw new StressJournalException($"{path}: the journal header's checksum is wrong (damaged header)");
        int version = BinaryPrimitives.ReadInt32LittleEndian(source[8..]);
        int unit = BinaryPrimitives.ReadInt32LittleEndian(source[12..]);
        if (version != Version || unit != StressContent.UnitSize)
            throw new StressJournalException($"{path}: journal version {version} with {unit}-byte units; this fastlog reads version {Version} with {StressContent.UnitSize}");
        var header = new StressJournalHeader(
            BinaryPrimitives.ReadUInt64LittleEndian(source[16..]), BinaryPrimitives.ReadInt32LittleEndian(source[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[32..]), BinaryPrimitives.ReadInt32LittleEndian(source[40..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[44..]), BinaryPrimitives.ReadDoubleLittleEndian(source[48..]),
            (BinaryPrimitives.ReadInt32LittleEndian(source[28..]) & 1) != 0, BinaryPrimitives.ReadInt32LittleEndian(source[56..]));
        if (header.Files <= 0 || header.FileSize <= 0 || header.FileSize % StressContent.UnitSize != 0)
            throw new StressJournalException($"{path}: implausible journal header ({header.Files} files of {header.FileSize} bytes)");
        return header;
    }

    /// <summary>The name of stress file <paramref name="index"/> in the directory under test.</summary>
    public static string FileName(int index) => $"stress-{index:D4}";

    public override string ToString() => new StringBuilder()
        .Append($"{Files} files of {FileSize} bytes, writes {WriteMin}-{WriteMax} bytes, ")
        .Append($"{(Fdatasync ? "fdatasync" : "fsync")} ratio {FsyncRatio}, seed {Seed}")
        .Append(SkipFsyncEvery > 0 ? $", skip-fsync-every {SkipFsyncEvery} (broken on purpose)" : "").ToString();
}

/// <summary>A journal that cannot be read at all (not a journal, damaged header, unreadable file).</summary>
public sealed class StressJournalException(string message) : Exception(message);
