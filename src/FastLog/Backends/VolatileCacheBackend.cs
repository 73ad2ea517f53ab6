using System.Runtime.InteropServices;
using FastLog.Interop;

namespace FastLog.Backends;

/// <summary>
/// A disk's volatile write cache in front of <see cref="Inner"/>, so that a power cut can lose what a real one
/// would: composed under the logging backend, <c>LoggingBackend(VolatileCache(File))</c>, the same on every frontend
/// (ublk runs it synchronously on the queue thread).
/// </summary>
/// <remarks>
/// Invariants (all state is guarded by <see cref="SyncRoot"/>):
/// <list type="bullet">
/// <item>The cache holds at most <see cref="CapacityBlocks"/> blocks of <see cref="BlockSize"/> bytes (the device's
/// logical block, its atomic unit), each the newest data written to that block; memory is allocated once, so a request
/// allocates nothing.</item>
/// <item>A block is either cached or read from the inner backend: reads see the cache first. The inner store never
/// holds data newer than a cached copy of the same block.</item>
/// <item>A plain WRITE only fills the cache. When it needs room, the blocks written longest ago are written back to the
/// inner backend first (they then count as persisted, and <see cref="Recorder"/> is told which), never blocks of the
/// write itself.</item>
/// <item>FLUSH writes every cached block back and flushes the inner backend: afterwards the cache is empty. A FUA write,
/// DISCARD and WRITE_ZEROES go straight to the inner backend (a FUA write durably) and drop the cached copies they
/// supersede, so they are persisted when they complete.</item>
/// <item><see cref="PowerCut"/> writes the blocks its <see cref="PowerFailKeep"/> keeps to the inner backend, drops
/// the rest, and from then on every request fails with EIO until <see cref="PowerOn"/>; the inner backend then holds
/// the crash state.</item>
/// </list>
/// </remarks>
public sealed unsafe class VolatileCacheBackend : IBlockBackend
{
    public const long DefaultCapacity = 256L << 20;
    public const long MinimumCapacity = 4L << 20;
    private const int GatherBytes = 1 << 20;
    private const int Free = -1;

    private readonly object _lock = new();
    private readonly int _blockShift;
    private readonly byte* _slab;
    private readonly byte* _gather;
    private readonly long[] _blockOf;       // slot → block
    private readonly int[] _older, _newer;  // write order, oldest first
    private readonly int[] _freeSlots;
    private readonly int[] _table;          // open addressing, slot + 1 (0: empty)
    private readonly int _tableMask;
    private readonly long[] _sortBlocks;
    private readonly int[] _sortSlots;
    private readonly BlockRange[] _ranges;
    private readonly int _evictBatch;
    private int _oldest = Free, _newest = Free, _freeCount, _cached;
    private bool _off;
    private int _disposed;

    /// <param name="inner">The media.</param>
    /// <param name="capacityBytes">Cache size, at least <see cref="MinimumCapacity"/> and at least the largest request.</param>
    /// <param name="blockSize">The device's logical block size (512 or 4096): the unit cached, kept and torn at.</param>
    /// <param name="keep">What <see cref="PowerCut"/> keeps unless told otherwise.</param>
    public VolatileCacheBackend(IBlockBackend inner, long capacityBytes, int blockSize, PowerFailKeep keep)
    {
        if (blockSize is not (512 or 4096))
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "512 or 4096");
        if (capacityBytes < MinimumCapacity || capacityBytes % blockSize != 0 || capacityBytes / blockSize > int.MaxValue / 4)
            throw new ArgumentOutOfRangeException(nameof(capacityBytes), capacityBytes,
                $"the cache size is a multiple of {blockSize} bytes from {MinimumCapacity >> 20} MiB to {((long)int.MaxValue / 4 * blockSize) >> 30} GiB");
        if (blockSize < inner.Capabilities.LogicalBlockSize)
            throw new ArgumentException($"the cache's block size {blockSize} is below the inner backend's logical block size {inner.Capabilities.LogicalBlockSize}", nameof(blockSize));
        Inner = inner;
        BlockSize = blockSize;
        // A cache that a cut can lose is what the kernel must send FLUSH and FUA for.
        Capabilities = inner.Capabilities with
        {
            LogicalBlockSize = blockSize,
            PhysicalBlockSize = Math.Max(blockSize, inner.Capabilities.PhysicalBlockSize),
            VolatileCache = true,
            Fua = true,
        };
        Keep = keep;
        _blockShift = System.Numerics.BitOperations.Log2((uint)blockSize);
        int slots = (int)(capacityBytes / blockSize);
        CapacityBlocks = slots;
        // Not zeroed: pages become resident only as the cache fills.
        _slab = (byte*)NativeMemory.AlignedAlloc((nuint)capacityBytes, 4096);
        _gather = (byte*)NativeMemory.AlignedAlloc(GatherBytes, 4096);
        _blockOf = new long[slots];
        _older = new int[slots];
        _newer = new int[slots];
        _freeSlots = new int[slots];
        for (int i = 0; i < slots; i++)
            _freeSlots[i] = slots - 1 - i;
        _freeCount = slots;
        int tableSize = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)slots * 2);
        _table = new int[tableSize];
        _tableMask = tableSize - 1;
        _sortBlocks = new long[slots];
        _sortSlots = new int[slots];
        _ranges = new BlockRange[slots];
        _evictBatch = Math.Max(1, slots / 64); // write back in batches: fewer, larger writes and fewer write-back marks
    }

    public IBlockBackend Inner { get; }
    public long Size => Inner.Size;
    public DeviceCapabilities Capabilities { get; }
    public int BlockSize { get; }
    public int CapacityBlocks { get; }
    public PowerFailKeep Keep { get; }

    /// <summary>The lock that orders every request and write-back; an outer layer may hold it to keep its own record
    /// (the log) in the same order (it is reentrant).</summary>
    public object SyncRoot => _lock;

    /// <summary>Told which blocks an early write-back persisted, before the write that needed the room proceeds.</summary>
    public IWriteBackRecorder? Recorder { get; set; }

    public bool PoweredOff
    {
        get { lock (_lock) return _off; }
    }

    public long CachedBlocks
    {
        get { lock (_lock) return _cached; }
    }

    public int Read(long offset, Span<byte> destination)
    {
        lock (_lock)
        {
            if (_off)
                return -Libc.EIO;
            if (!Aligned(offset, destination.Length))
                return -Libc.EINVAL;
            long first = offset >> _blockShift;
            int count = destination.Length >> _blockShift;
            int runStart = -1; // first block of a run that is not cached
            for (int i = 0; i <= count; i++)
            {
                int slot = i < count ? Find(first + i) : Free;
                if (i < count && slot == Free)
                {
                    if (runStart < 0) runStart = i;
                    continue;
                }
                if (runStart >= 0)
                {
                    int rc = Inner.Read((first + runStart) << _blockShift,
                        destination.Slice(runStart << _blockShift, (i - runStart) << _blockShift));
                    if (rc != 0)
                        return rc;
                    runStart = -1;
                }
                if (i < count)
                    new ReadOnlySpan<byte>(SlotData(slot), BlockSize).CopyTo(destination.Slice(i << _blockShift, BlockSize));
            }
            return 0;
        }
    }

    public int Write(long offset, ReadOnlySpan<byte> source, bool fua)
    {
        lock (_lock)
        {
            if (_off)
                return -Libc.EIO;
            if (!Aligned(offset, source.Length) || source.Length > Size - offset) // no overflowing sum
                return -Libc.EINVAL;
            long first = offset >> _blockShift;
            int count = source.Length >> _blockShift;
            if (fua)
            {
                Drop(first, count);
                return Inner.Write(offset, source, fua: true);
            }
            if (count > CapacityBlocks)
                return -Libc.EINVAL; // a request larger than the whole cache: refused at construction by the minimum size
            int rc = MakeRoom(first, count);
            if (rc != 0)
                return rc;
            for (int i = 0; i < count; i++)
            {
                long block = first + i;
                int slot = Find(block);
                if (slot == Free)
                {
                    slot = _freeSlots[--_freeCount];
                    _blockOf[slot] = block;
                    Insert(block, slot);
                    _cached++;
                }
                else
                    Unlink(slot);
                LinkNewest(slot);
                source.Slice(i << _blockShift, BlockSize).CopyTo(new Span<byte>(SlotData(slot), BlockSize));
            }
            return 0;
        }
    }

    public int Flush()
    {
        lock (_lock)
        {
            if (_off)
                return -Libc.EIO;
            int n = CollectOldest(_cached);
            int rc = WriteBack(n, out _);
            if (rc != 0)
                return rc;
            Release(n);
            return Inner.Flush();
        }
    }

    public int Discard(long offset, long length) => Trim(offset, length, zeroes: false);

    public int WriteZeroes(long offset, long length) => Trim(offset, length, zeroes: true);

    /// <summary>DISCARD or WRITE_ZEROES: straight to the inner backend, superseding the cached copies.</summary>
    private int Trim(long offset, long length, bool zeroes)
    {
        lock (_lock)
        {
            if (_off)
                return -Libc.EIO;
            if (!Aligned(offset, length))
                return -Libc.EINVAL;
            Drop(offset >> _blockShift, length >> _blockShift);
            return zeroes ? Inner.WriteZeroes(offset, length) : Inner.Discard(offset, length);
        }
    }

    /// <summary>
    /// The power fails: the blocks <paramref name="keep"/> (default <see cref="Keep"/>) selects from the cache are
    /// written to the inner backend and flushed, the rest is dropped, and every request fails with EIO until
    /// <see cref="PowerOn"/>. Null if the power is already off.
    /// </summary>
    public PowerCutResult? PowerCut(PowerFailKeep? keep = null)
    {
        lock (_lock)
        {
            if (_off)
                return null;
            _off = true;
            PowerFailKeep policy = (keep ?? Keep).Resolved();
            long cached = _cached;
            int n = CollectOldest(_cached);
            Array.Sort(_sortBlocks, _sortSlots, 0, n); // a seed then picks the same blocks whatever the write order was
            int kept = 0;
            var random = policy.Kind == PowerFailKeepKind.Random ? new Random(policy.Seed!.Value) : null;
            for (int i = 0; i < n; i++)
            {
                bool keepIt = policy.Kind == PowerFailKeepKind.All || (random is not null && random.Next(2) == 1);
                if (keepIt)
                {
                    _sortBlocks[kept] = _sortBlocks[i];
                    _sortSlots[kept] = _sortSlots[i];
                    kept++;
                }
            }
            int rc = WriteRuns(kept, out int ranges);
            if (rc == 0)
                rc = Inner.Flush();
            BlockRange[] keptRanges = _ranges.AsSpan(0, ranges).ToArray();
            n = CollectOldest(_cached);
            Release(n);
            return new PowerCutResult(policy, cached, kept, keptRanges, rc);
        }
    }

    /// <summary>Restores service after <see cref="PowerCut"/>: the device now reads back the crash state. False if it was on.</summary>
    public bool PowerOn()
    {
        lock (_lock)
        {
            if (!_off)
                return false;
            _off = false;
            return true;
        }
    }

    private bool Aligned(long offset, long length) =>
        offset >= 0 && length >= 0 && ((offset | length) & (BlockSize - 1)) == 0;

    private byte* SlotData(int slot) => _slab + ((long)slot << _blockShift);

    /// <summary>Writes back the oldest blocks until the uncached blocks of [first, first+count) fit.</summary>
    private int MakeRoom(long first, int count)
    {
        while (true)
        {
            int needed = 0;
            if (_freeCount < count)
                for (int i = 0; i < count; i++)
                    if (Find(first + i) == Free)
                        needed++;
            if (needed <= _freeCount)
                return 0;
            // The write's own cached blocks may be among the oldest: written back with their older data, which the
            // write then supersedes in the cache; the loop counts them as needing room again.
            int n = CollectOldest(Math.Min(_cached, Math.Max(_evictBatch, needed - _freeCount)));
            int rc = WriteBack(n, out int ranges);
            if (rc != 0)
                return rc;
            Recorder?.WroteBack(_ranges.AsSpan(0, ranges));
            Release(n);
        }
    }

    /// <summary>Puts the <paramref name="count"/> oldest cached blocks in the sort arrays; returns how many.</summary>
    private int CollectOldest(long count)
    {
        int n = 0;
        for (int slot = _oldest; slot != Free && n < count; slot = _newer[slot])
        {
            _sortBlocks[n] = _blockOf[slot];
            _sortSlots[n] = slot;
            n++;
        }
        return n;
    }

    /// <summary>Writes the collected blocks to the inner backend in block order (they stay cached).</summary>
    private int WriteBack(int n, out int ranges)
    {
        Array.Sort(_sortBlocks, _sortSlots, 0, n);
        return WriteRuns(n, out ranges);
    }

    /// <summary>Writes the first <paramref name="n"/> sorted blocks as runs of adjacent blocks, gathered into one
    /// buffer per inner write; fills <see cref="_ranges"/> with the runs.</summary>
    private int WriteRuns(int n, out int ranges)
    {
        ranges = 0;
        int gathered = 0;
        long gatherStart = 0;
        for (int i = 0; i < n; i++)
        {
            long block = _sortBlocks[i];
            if (ranges > 0 && _ranges[ranges - 1] is { } last && last.Start + last.Count == block)
                _ranges[ranges - 1] = last with { Count = last.Count + 1 };
            else
                _ranges[ranges++] = new BlockRange(block, 1);
            if (gathered > 0 && (gatherStart + gathered != block || (gathered + 1) << _blockShift > GatherBytes))
            {
                int rc = Inner.Write(gatherStart << _blockShift, new ReadOnlySpan<byte>(_gather, gathered << _blockShift), fua: false);
                if (rc != 0)
                    return rc;
                gathered = 0;
            }
            if (gathered == 0)
                gatherStart = block;
            Buffer.MemoryCopy(SlotData(_sortSlots[i]), _gather + ((long)gathered << _blockShift), BlockSize, BlockSize);
            gathered++;
        }
        return gathered == 0 ? 0 : Inner.Write(gatherStart << _blockShift, new ReadOnlySpan<byte>(_gather, gathered << _blockShift), fua: false);
    }

    /// <summary>Forgets the collected blocks (written back or dropped).</summary>
    private void Release(int n)
    {
        for (int i = 0; i < n; i++)
            Forget(_sortSlots[i]);
    }

    /// <summary>Forgets the cached copies of [first, first+count): a request that supersedes them went to the inner backend.</summary>
    private void Drop(long first, long count)
    {
        if (_cached == 0)
            return;
        if (count > _cached)
        {
            // A large range (a whole-device discard): walk the cache instead of the range.
            for (int slot = _oldest; slot != Free;)
            {
                int next = _newer[slot];
                if (_blockOf[slot] >= first && _blockOf[slot] < first + count)
                    Forget(slot);
                slot = next;
            }
            return;
        }
        for (long i = 0; i < count; i++)
            if (Find(first + i) is var slot and not Free)
                Forget(slot);
    }

    private void Forget(int slot)
    {
        Remove(_blockOf[slot]);
        Unlink(slot);
        _freeSlots[_freeCount++] = slot;
        _cached--;
    }

    private void LinkNewest(int slot)
    {
        _older[slot] = _newest;
        _newer[slot] = Free;
        if (_newest != Free) _newer[_newest] = slot;
        else _oldest = slot;
        _newest = slot;
    }

    private void Unlink(int slot)
    {
        int older = _older[slot], newer = _newer[slot];
        if (older != Free) _newer[older] = newer;
        else _oldest = newer;
        if (newer != Free) _older[newer] = older;
        else _newest = older;
    }

    private int Home(long block) => (int)((ulong)block * 0x9E3779B97F4A7C15UL >> 33) & _tableMask;

    private int Find(long block)
    {
        for (int i = Home(block); ; i = (i + 1) & _tableMask)
        {
            int entry = _table[i];
            if (entry == 0) return Free;
            if (_blockOf[entry - 1] == block) return entry - 1;
        }
    }

    private void Insert(long block, int slot)
    {
        int i = Home(block);
        while (_table[i] != 0)
            i = (i + 1) & _tableMask;
        _table[i] = slot + 1;
    }

    /// <summary>Linear probing with backward-shift deletion: no tombstones, so lookups stay short.</summary>
    private void Remove(long block)
    {
        int i = Home(block);
        while (_blockOf[_table[i] - 1] != block)
            i = (i + 1) & _tableMask;
        int hole = i;
        for (int j = (hole + 1) & _tableMask; _table[j] != 0; j = (j + 1) & _tableMask)
        {
            int home = Home(_blockOf[_table[j] - 1]);
            // Move j into the hole unless its home lies cyclically in (hole, j].
            bool stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!stays)
            {
                _table[hole] = _table[j];
                hole = j;
            }
        }
        _table[hole] = 0;
    }

    /// <summary>A clean shutdown writes the cache back (as a disk does on a clean power-down) unless the power is off.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        lock (_lock)
        {
            if (!_off)
            {
                int n = CollectOldest(_cached);
                if (WriteBack(n, out _) == 0)
                    Inner.Flush();
            }
            NativeMemory.AlignedFree(_slab);
            NativeMemory.AlignedFree(_gather);
            _off = true; // a late caller (a power-fail timer racing with shutdown) gets EIO, not freed memory
        }
        Inner.Dispose();
    }
}
