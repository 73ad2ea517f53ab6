using System.Buffers.Binary;
using System.Numerics;

namespace FastLog.Workload;

/// <summary>What a journal record says.</summary>
public enum StressRecordKind : byte
{
    /// <summary>A write stress is about to issue (recorded before the pwrite, so anything on disk is in the journal).</summary>
    Write = 1,
    /// <summary>An acknowledged fsync/fdatasync: from now on the file holds at least what was written to it before.</summary>
    Promise = 2,
    /// <summary>Stress stopped at an I/O error: which operation, file, offset, sequence number and errno.</summary>
    Stop = 3,
    /// <summary>Stress ended normally (the requested ops or duration, or a signal).</summary>
    End = 4,
}

/// <summary>The operation a promise used or a stop happened in.</summary>
public enum StressOp : byte
{
    None = 0,
    Write = 1,
    Fsync = 2,
    Fdatasync = 3,
    Mark = 4,
    Open = 5,
}

/// <summary>
/// One 32-byte journal record. The fields mean, per kind:
/// <list type="bullet">
/// <item>Write: <see cref="File"/>, <see cref="Sequence"/> = write sequence number (1, 2, ... with no gaps),
/// <see cref="Offset"/>, <see cref="Length"/> (whole <see cref="StressContent.UnitSize"/> units).</item>
/// <item>Promise: <see cref="File"/>, <see cref="Sequence"/> = promise sequence number (1, 2, ...),
/// <see cref="CoveredWrite"/> = the last write sequence number issued before the fsync, so the promise is "file
/// F holds every write to it numbered up to CoveredWrite, or something later"; <see cref="Op"/>; <see cref="Skipped"/>
/// when --skip-fsync-every recorded it without calling fsync (the deliberately broken workload).</item>
/// <item>Stop: <see cref="Op"/>, <see cref="File"/>, <see cref="Sequence"/> (the write or promise sequence number
/// of the failed operation), <see cref="Offset"/> (-1 if none), <see cref="Errno"/>.</item>
/// <item>End: <see cref="Sequence"/> = writes issued, <see cref="Offset"/> = promises made.</item>
/// </list>
/// Encoding: kind (1), op (1), flags (2), file (4), sequence (8), offset-or-covered-write (8), length-or-errno (4),
/// CRC-32C of the first 28 bytes (4); little-endian.
/// </summary>
public readonly record struct StressJournalRecord(StressRecordKind Kind, StressOp Op, bool Skipped, int File, long Sequence, long Offset, int Length)
{
    public const int Size = 32;
    private const ushort SkippedFlag = 1;

    public long CoveredWrite => Offset;
    public int Errno => Length;

    public static StressJournalRecord Write(int file, long sequence, long offset, int length) =>
        new(StressRecordKind.Write, StressOp.Write, false, file, sequence, offset, length);

    public static StressJournalRecord Promise(int file, long promise, long coveredWrite, StressOp op, bool skipped) =>
        new(StressRecordKind.Promise, op, skipped, file, promise, coveredWrite, 0);

    public static StressJournalRecord Stopped(StressOp op, int file, long sequence, long offset, int errno) =>
        new(StressRecordKind.Stop, op, false, file, sequence, offset, errno);

    public static StressJournalRecord Ended(long writes, long promises) =>
        new(StressRecordKind.End, StressOp.None, false, 0, writes, promises, 0);

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = (byte)Kind;
        destination[1] = (byte)Op;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], Skipped ? SkippedFlag : (ushort)0);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], File);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], Offset);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], Checksum(destination[..28]));
    }

    /// <summary>Decodes a record, or returns false if its checksum or kind is wrong (a torn or damaged record).</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out StressJournalRecord record)
    {
        record = default;
        if (BinaryPrimitives.ReadUInt32LittleEndian(source[28..]) != Checksum(source[..28]))
            return false;
        var kind = (StressRecordKind)source[0];
        if (kind is < StressRecordKind.Write or > StressRecordKind.End || source[1] > (byte)StressOp.Open)
            return false;
        record = new StressJournalRecord(kind, (StressOp)source[1],
            (BinaryPrimitives.ReadUInt16LittleEndian(source[2..]) & SkippedFlag) != 0,
            BinaryPrimitives.ReadInt32LittleEndian(source[4..]), BinaryPrimitives.ReadInt64LittleEndian(source[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[16..]), BinaryPrimitives.ReadInt32LittleEndian(source[24..]));
        return true;
    }

    /// <summary>CRC-32C of <paramref name="bytes"/> (a multiple of 4 bytes long).</summary>
    internal static uint Checksum(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        int at = 0;
        for (; at + 8 <= bytes.Length; at += 8)
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(bytes[at..]));
        for (; at + 4 <= bytes.Length; at += 4)
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt32LittleEndian(bytes[at..]));
        return ~crc;
    }
}
