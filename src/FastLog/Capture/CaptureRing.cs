using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastLog.Capture;

/// <summary>
/// Lock-free multi-producer, single-consumer staging ring for log records, addressed by log byte offset:
/// address <c>a</c> lives at <c>memory[a % Capacity]</c>, so the bytes of the ring are the bytes of the log
/// file and the consumer writes them out as they stand.
/// </summary>
/// <remarks>
/// Three monotonic addresses tell everything (FasterLog style):
/// <list type="bullet">
/// <item><see cref="ReservedUntil"/>: producers claim <c>[a, a+n)</c> with one <c>Interlocked.Add</c>; the claim
/// is the record's place in the total order of the log, fixed before the producer returns.</item>
/// <item><see cref="CommittedUntil"/>: every record below it is fully copied. Producers finish out of order; each
/// publishes its length in a commit mark at its first unit and the consumer advances over contiguous marks.</item>
/// <item><see cref="ReleasedUntil"/>: the consumer no longer needs bytes below it. A producer may write address
/// <c>x</c> only while <c>x &lt; ReleasedUntil + Capacity</c>; otherwise it waits (backpressure: nothing is dropped).</item>
/// </list>
/// ReleasedUntil ≤ CommittedUntil ≤ ReservedUntil always holds.
/// </remarks>
internal sealed unsafe class CaptureRing : IDisposable
{
    private readonly byte* _memory;
    private readonly long _mask;
    private readonly int _unitShift;
    private readonly int[] _commitMarks;
    private readonly object _spaceLock = new();
    private Addresses _addresses;
    private int _spaceWaiters;
    private volatile int _failure;

    /// <param name="capacity">Bytes of staging memory, a power of two from 64 KiB to 1 GiB.</param>
    /// <param name="unit">Every record is a whole number of units (the log sector size).</param>
    /// <param name="startAddress">First address producers get (records start after the super block).</param>
    public CaptureRing(long capacity, int unit, long startAddress)
    {
        if (!IsValidCapacity(capacity))
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, CapacityRule);
        if (unit < 512 || (unit & (unit - 1)) != 0 || startAddress % unit != 0)
            throw new ArgumentOutOfRangeException(nameof(unit), unit, "a power of two ≥ 512 dividing the start address");
        Capacity = capacity;
        Unit = unit;
        _mask = capacity - 1;
        _unitShift = System.Numerics.BitOperations.Log2((uint)unit);
        // Huge pages where the kernel has them (best effort): producers' copies and the kernel's pinning of the ring
        // for each O_DIRECT log write then touch 2 MiB pages, not 4 KiB ones.
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)capacity, HugePageSize);
        Interop.Mman.Madvise(_memory, (nuint)capacity, Interop.Mman.MADV_HUGEPAGE);
        NativeMemory.Clear(_memory, (nuint)capacity);
        _commitMarks = new int[capacity >> _unitShift];
        _addresses.Reserved = _addresses.Committed = startAddress;
    }

    private const int HugePageSize = 2 << 20;

    public const string CapacityRule = "a power of two from 64 KiB to 1 GiB";

    public static bool IsValidCapacity(long capacity) =>
        capacity >= 1 << 16 && capacity <= 1 << 30 && (capacity & (capacity - 1)) == 0;

    public long Capacity { get; }
    public int Unit { get; }

    /// <summary>The largest record a producer may reserve; larger payloads are split by the caller.</summary>
    public int MaxRecord => (int)(Capacity / 4);

    public long ReservedUntil => Volatile.Read(ref _addresses.Reserved);
    public long CommittedUntil => Volatile.Read(ref _addresses.Committed);
    public long ReleasedUntil => Volatile.Read(ref _addresses.Released);

    /// <summary>Non-zero (a negative errno) once the consumer gave up; producers then fail fast.</summary>
    public int Failure => _failure;

    /// <summary>
    /// Claims <paramref name="length"/> bytes, waiting for space while the consumer is a full ring behind.
    /// Returns false only when the ring failed; the claim is then abandoned and the order past it is dead.
    /// </summary>
    public bool TryReserve(int length, out long address)
    {
        address = Interlocked.Add(ref _addresses.Reserved, length) - length;
        long end = address + length;
        if (end - Volatile.Read(ref _addresses.Released) > Capacity)
            WaitForSpace(end);
        return _failure == 0;
    }

    /// <summary>The memory of <c>[address, address+length)</c> as at most two spans (the ring may wrap inside).</summary>
    public void GetSpans(long address, int length, out Span<byte> first, out Span<byte> second)
    {
        long offset = address & _mask;
        int firstLength = (int)Math.Min(length, Capacity - offset);
        first = new Span<byte>(_memory + offset, firstLength);
        second = new Span<byte>(_memory, length - firstLength);
    }

    /// <summary>One unit at <paramref name="address"/>; a unit never wraps, since units divide the capacity.</summary>
    public Span<byte> UnitAt(long address) => new(_memory + (address & _mask), Unit);

    public void Write(long address, ReadOnlySpan<byte> source)
    {
        GetSpans(address, source.Length, out Span<byte> first, out Span<byte> second);
        source[..first.Length].CopyTo(first);
        source[first.Length..].CopyTo(second);
    }

    public void Clear(long address, int length)
    {
        GetSpans(address, length, out Span<byte> first, out Span<byte> second);
        first.Clear();
        second.Clear();
    }

    /// <summary>Publishes a fully copied record. Release semantics: the consumer sees its bytes once it sees the mark.</summary>
    public void Commit(long address, int length) =>
        Volatile.Write(ref _commitMarks[(address & _mask) >> _unitShift], length >> _unitShift);

    // ---- consumer side: one thread only ----

    /// <summary>Moves <see cref="CommittedUntil"/> over contiguous committed records; counts them.</summary>
    public long AdvanceCommitted(ref long records)
    {
        long committed = _addresses.Committed;
        while (true)
        {
            ref int mark = ref _commitMarks[(committed & _mask) >> _unitShift];
            int units = Volatile.Read(ref mark);
            if (units == 0)
                break;
            mark = 0;
            committed += (long)units << _unitShift;
            records++;
        }
        Debug.Assert(committed <= Volatile.Read(ref _addresses.Reserved), "CommittedUntil ≤ ReservedUntil");
        Volatile.Write(ref _addresses.Committed, committed);
        return committed;
    }

    /// <summary>True when the record at <paramref name="address"/> is committed but not yet advanced over.</summary>
    public bool IsCommittedAt(long address) => Volatile.Read(ref _commitMarks[(address & _mask) >> _unitShift]) != 0;

    /// <summary>Lets producers reuse memory below <paramref name="address"/>.</summary>
    public void Release(long address)
    {
        // A full fence between publishing the release and reading the waiter count (a waiter increments the count,
        // fenced, before its last look at Released): otherwise a waiter can miss both and sleep out its timeout.
        Debug.Assert(address >= _addresses.Released && address <= _addresses.Committed, "ReleasedUntil ≤ CommittedUntil, monotonic");
        Interlocked.Exchange(ref _addresses.Released, address);
        if (Volatile.Read(ref _spaceWaiters) != 0)
            lock (_spaceLock) Monitor.PulseAll(_spaceLock);
    }

    /// <summary>Pointer to the byte at <paramref name="address"/> for the consumer's I/O.</summary>
    public byte* PointerAt(long address) => _memory + (address & _mask);

    /// <summary>Fails the ring: current and future producers return false instead of waiting forever.</summary>
    public void Fail(int negativeErrno)
    {
        Interlocked.CompareExchange(ref _failure, negativeErrno, 0);
        lock (_spaceLock) Monitor.PulseAll(_spaceLock);
    }

    private void WaitForSpace(long end)
    {
        var spinner = new SpinWait();
        for (int i = 0; i < 64; i++)
        {
            if (end - Volatile.Read(ref _addresses.Released) <= Capacity || _failure != 0) return;
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        Interlocked.Increment(ref _spaceWaiters);
        try
        {
            lock (_spaceLock)
                while (end - Volatile.Read(ref _addresses.Released) > Capacity && _failure == 0)
                    Monitor.Wait(_spaceLock, 100);
        }
        finally
        {
            Interlocked.Decrement(ref _spaceWaiters);
        }
    }

    public void Dispose() => NativeMemory.AlignedFree(_memory);

    /// <summary>Each address on its own pair of cache lines: producers hammer Reserved, the consumer the others.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 384)]
    private struct Addresses
    {
        [FieldOffset(128)] public long Reserved;
        [FieldOffset(256)] public long Committed;
        [FieldOffset(256 + 8)] public long Released;
    }
}
