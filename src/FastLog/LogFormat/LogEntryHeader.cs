using System.Buffers.Binary;
using System.Text;

namespace FastLog.LogFormat;

/// <summary>
/// One entry header: four little-endian u64 (sector, nr_sectors, flags, data_len) at the start of a
/// header sector. Sector and NrSectors count in the log's sector size (the super block's sectorsize).
/// A write's payload of NrSectors sectors follows its header; a DISCARD carries none. A MARK keeps its
/// name right after the 32 bytes, DataLength bytes, no terminator.
/// </summary>
public readonly record struct LogEntryHeader(ulong Sector, ulong NrSectors, LogEntryFlags Flags, ulong DataLength)
{
    public const int EncodedSize = 32;

    /// <summary>The kernel's rule: a mark name must leave room for a terminator in the header sector.</summary>
    public static int MaxMarkNameLength(int sectorSize) => sectorSize - EncodedSize - 1;

    public bool IsMark => (Flags & LogEntryFlags.Mark) != 0;
    public bool IsDiscard => (Flags & LogEntryFlags.Discard) != 0;
    public bool IsFlush => (Flags & LogEntryFlags.Flush) != 0;
    public bool IsFua => (Flags & LogEntryFlags.Fua) != 0;

    /// <summary>A write carries payload; DISCARD ranges and marks do not.</summary>
    public ulong PayloadSectors => IsDiscard ? 0 : NrSectors;

    public static LogEntryHeader Write(ulong sector, ulong nrSectors, LogEntryFlags extra = LogEntryFlags.None) =>
        new(sector, nrSectors, extra, 0);

    public static LogEntryHeader Flush() => new(0, 0, LogEntryFlags.Flush, 0);

    public static LogEntryHeader Discard(ulong sector, ulong nrSectors) => new(sector, nrSectors, LogEntryFlags.Discard, 0);

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Sector);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], NrSectors);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], (ulong)Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], DataLength);
    }

    public static LogEntryHeader ReadFrom(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(source),
        BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
        (LogEntryFlags)BinaryPrimitives.ReadUInt64LittleEndian(source[16..]),
        BinaryPrimitives.ReadUInt64LittleEndian(source[24..]));

    /// <summary>Encodes a mark header and its name into a zeroed header sector.</summary>
    public static void WriteMark(Span<byte> headerSector, ReadOnlySpan<char> name)
    {
        int max = MaxMarkNameLength(headerSector.Length);
        int length = Encoding.UTF8.GetByteCount(name);
        if (length == 0 || length > max)
            throw new ArgumentException($"mark name must be 1 to {max} bytes for {headerSector.Length}-byte log sectors, got {length}", nameof(name));
        new LogEntryHeader(0, 0, LogEntryFlags.Mark, (ulong)length).WriteTo(headerSector);
        Encoding.UTF8.GetBytes(name, headerSector[EncodedSize..]);
    }

    public static string ReadMarkName(ReadOnlySpan<byte> headerSector, LogEntryHeader header) =>
        Encoding.UTF8.GetString(headerSector.Slice(EncodedSize, (int)header.DataLength));
}
