using System.Buffers.Binary;

namespace FastLog.LogFormat;

/// <summary>
/// The super block at log sector 0: magic, version, nr_entries, sectorsize (28 meaningful bytes,
/// little-endian, rest of the sector zero). The kernel copies an unpacked 32-byte struct, so bytes 28..31
/// may hold garbage and are ignored.
/// </summary>
public readonly record struct LogSuperBlock(ulong EntryCount, uint SectorSize)
{
    public const ulong Magic = 0x6a736677736872;
    public const ulong Version = 1;
    public const int EncodedSize = 28;
    public const string EndMarkName = "dm-log-writes-end";

    public static bool IsValidSectorSize(uint sectorSize) =>
        sectorSize >= 512 && sectorSize <= 1 << 16 && (sectorSize & (sectorSize - 1)) == 0;

    /// <summary>Writes the 28 meaningful bytes; the caller owns zeroing the rest of the sector.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Version);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], EntryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], SectorSize);
    }

    /// <summary>Parses and validates a super block; <paramref name="path"/> only names the file in errors.</summary>
    public static LogSuperBlock Read(ReadOnlySpan<byte> source, string path)
    {
        if (source.Length < EncodedSize)
            throw new LogFormatException($"{path}: truncated super block: {source.Length} bytes, need at least {EncodedSize}");
        ulong magic = BinaryPrimitives.ReadUInt64LittleEndian(source);
        if (magic != Magic)
            throw new LogFormatException($"{path}: not a dm-log-writes log: magic 0x{magic:x} at byte offset 0, expected 0x{Magic:x}");
        ulong version = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        if (version != Version)
            throw new LogFormatException($"{path}: unsupported dm-log-writes version {version} at byte offset 8, only version {Version} exists");
        ulong entries = BinaryPrimitives.ReadUInt64LittleEndian(source[16..]);
        uint sectorSize = BinaryPrimitives.ReadUInt32LittleEndian(source[24..]);
        if (!IsValidSectorSize(sectorSize))
            throw new LogFormatException($"{path}: implausible sectorsize {sectorSize} at byte offset 24 (a power of two from 512 to 65536)");
        return new LogSuperBlock(entries, sectorSize);
    }
}
