using System.Runtime.InteropServices;

namespace FastLog.LogFormat;

/// <summary>
/// One entry in a <see cref="LogIndex"/>: exactly 32 bytes, the same in memory and in the .flidx file
/// (little-endian hosts only, which is all FastLog runs on).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4, Size = 32)]
public readonly struct LogIndexEntry(long headerOffset, ulong sector, ulong nrSectors, LogEntryFlags flags, int epoch)
{
    /// <summary>Byte offset of the entry's header sector in the log.</summary>
    public readonly long HeaderOffset = headerOffset;
    /// <summary>Device sector (in log sectors).</summary>
    public readonly ulong Sector = sector;
    public readonly ulong NrSectors = nrSectors;
    private readonly uint _flags = (uint)flags;
    /// <summary>
    /// Flush epoch: 0 until the first FLUSH entry, which closes epoch 0 and belongs to it; every later entry
    /// is in the epoch after the last FLUSH before it.
    /// </summary>
    public readonly int Epoch = epoch;

    public LogEntryFlags Flags => (LogEntryFlags)_flags;
    public bool IsDiscard => (Flags & LogEntryFlags.Discard) != 0;
    public bool IsMark => (Flags & LogEntryFlags.Mark) != 0;
    /// <summary>Payload bytes that follow the header in the log.</summary>
    public long PayloadLength(int sectorSize) => IsDiscard ? 0 : (long)NrSectors * sectorSize;
    /// <summary>Byte offset of the next entry's header.</summary>
    public long NextOffset(int sectorSize) => HeaderOffset + sectorSize + PayloadLength(sectorSize);
}
