using System.Buffers.Binary;

namespace FastLog.Workload;

/// <summary>What one <see cref="StressContent.UnitSize"/>-byte unit of a stress file turned out to hold.</summary>
public enum UnitKind
{
    /// <summary>Every byte zero: never written, a hole, or an extent the file system had not written yet.</summary>
    Zeros,
    /// <summary>Exactly what stress wrote: <see cref="UnitContent.File"/>, <see cref="UnitContent.Offset"/> and
    /// <see cref="UnitContent.Version"/> name the write (its sequence number).</summary>
    Version,
    /// <summary>A stress unit header of this run whose payload does not match it: a torn or corrupted copy.</summary>
    Torn,
    /// <summary>Neither zeros nor this run's data (another run's, or the file system's own blocks).</summary>
    Garbage,
}

/// <summary>A classified unit; File, Offset and Version are those its header claims (valid for Version and Torn).</summary>
public readonly record struct UnitContent(UnitKind Kind, int File, long Offset, long Version);

/// <summary>
/// The data stress writes, a pure function of (seed, file, offset, write sequence number), so nothing is stored
/// per byte: any unit read back names the write it came from and can be checked against a regeneration.
/// Layout of each 512-byte unit: magic (4), file index (4), write sequence number (8), byte offset in the file (8),
/// seed tag (8), then 480 bytes of splitmix64 output seeded from all of these.
/// Invariant: no unit stress writes is all zeros (the magic is not), so zeros always mean "not written".
/// </summary>
public static class StressContent
{
    /// <summary>The oracle's granularity, the smallest atomic unit of any block device FastLog serves: writes are
    /// made of whole units at unit-aligned offsets, and each unit is checked on its own, so a write torn at a
    /// sector boundary is judged sector by sector, as a power cut may leave it.</summary>
    public const int UnitSize = 512;

    private const uint Magic = 0x54534C46; // "FLST" little-endian
    private const int HeaderSize = 32;

    /// <summary>Fills <paramref name="destination"/> (whole units) with what write <paramref name="version"/> puts at
    /// <paramref name="offset"/> of file <paramref name="file"/>.</summary>
    public static void Fill(Span<byte> destination, ulong seed, int file, long offset, long version)
    {
        if (destination.Length % UnitSize != 0 || offset % UnitSize != 0)
            throw new ArgumentException($"stress content comes in whole {UnitSize}-byte units at aligned offsets");
        for (int at = 0; at < destination.Length; at += UnitSize)
            FillUnit(destination.Slice(at, UnitSize), seed, file, offset + at, version);
    }

    /// <summary>What a unit read back is; <paramref name="unit"/> is one whole unit.</summary>
    public static UnitContent Classify(ReadOnlySpan<byte> unit, ulong seed)
    {
        if (!unit.ContainsAnyExcept((byte)0))
            return new UnitContent(UnitKind.Zeros, 0, 0, 0);
        if (BinaryPrimitives.ReadUInt32LittleEndian(unit) != Magic
            || BinaryPrimitives.ReadUInt64LittleEndian(unit[24..]) != SeedTag(seed))
            return new UnitContent(UnitKind.Garbage, 0, 0, 0);
        int file = BinaryPrimitives.ReadInt32LittleEndian(unit[4..]);
        long version = BinaryPrimitives.ReadInt64LittleEndian(unit[8..]);
        long offset = BinaryPrimitives.ReadInt64LittleEndian(unit[16..]);
        if (file < 0 || version <= 0 || offset < 0 || offset % UnitSize != 0)
            return new UnitContent(UnitKind.Garbage, 0, 0, 0);
        Span<byte> expected = stackalloc byte[UnitSize];
        FillUnit(expected, seed, file, offset, version);
        return new UnitContent(unit.SequenceEqual(expected) ? UnitKind.Version : UnitKind.Torn, file, offset, version);
    }

    private static void FillUnit(Span<byte> unit, ulong seed, int file, long offset, long version)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(unit, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(unit[4..], file);
        BinaryPrimitives.WriteInt64LittleEndian(unit[8..], version);
        BinaryPrimitives.WriteInt64LittleEndian(unit[16..], offset);
        BinaryPrimitives.WriteUInt64LittleEndian(unit[24..], SeedTag(seed));
        ulong state = Mix(seed ^ Mix((ulong)file + 1) ^ Mix((ulong)version * 0x9E3779B97F4A7C15) ^ Mix((ulong)offset + 0x632BE59BD9B4E019));
        for (int at = HeaderSize; at < UnitSize; at += 8)
        {
            state += 0x9E3779B97F4A7C15;
            BinaryPrimitives.WriteUInt64LittleEndian(unit[at..], Mix(state));
        }
    }

    private static ulong SeedTag(ulong seed) => Mix(seed ^ 0x5354524553534C46) | 1; // never 0: see the invariant

    /// <summary>splitmix64's finalizer.</summary>
    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
