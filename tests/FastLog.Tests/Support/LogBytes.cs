using System.Buffers.Binary;
using System.Text;

namespace FastLog.Tests.Support;

/// <summary>
/// Builds dm-log-writes bytes by hand, independently of LogWriter, so tests can compare the writer's output
/// bit for bit and craft malformed logs.
/// </summary>
internal sealed class LogBytes(int sectorSize)
{
    private readonly MemoryStream _body = new();
    public long Entries { get; private set; }
    public int SectorSize => sectorSize;

    public LogBytes Entry(ulong sector, ulong nrSectors, ulong flags, ulong dataLength = 0, byte[]? payload = null, string? markName = null, byte byte32 = 0)
    {
        var header = new byte[sectorSize];
        BinaryPrimitives.WriteUInt64LittleEndian(header, sector);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), nrSectors);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), dataLength);
        if (markName is not null)
            Encoding.UTF8.GetBytes(markName).CopyTo(header, 32);
        else if (byte32 != 0)
            header[32] = byte32;
        _body.Write(header);
        if (payload is not null)
            _body.Write(payload);
        Entries++;
        return this;
    }

    public LogBytes Write(ulong sector, byte[] payload, ulong extraFlags = 0) =>
        Entry(sector, (ulong)(payload.Length / sectorSize), extraFlags, 0, payload);

    public LogBytes Mark(string name) => Entry(0, 0, 8, (ulong)Encoding.UTF8.GetByteCount(name), markName: name);

    public byte[] ToArray(long? nrEntries = null, ulong magic = 0x6a736677736872, ulong version = 1)
    {
        var super = new byte[sectorSize];
        BinaryPrimitives.WriteUInt64LittleEndian(super, magic);
        BinaryPrimitives.WriteUInt64LittleEndian(super.AsSpan(8), version);
        BinaryPrimitives.WriteUInt64LittleEndian(super.AsSpan(16), (ulong)(nrEntries ?? Entries));
        BinaryPrimitives.WriteUInt32LittleEndian(super.AsSpan(24), (uint)sectorSize);
        return [.. super, .. _body.ToArray()];
    }

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
