using System.Diagnostics;
using System.Runtime.InteropServices;
using FastLog.Interop;
using FastLog.Interop.IoUring;
using FastLog.LogFormat;

namespace FastLog.Capture;

/// <summary>
/// The log writer's I/O: appends the bytes of a <see cref="CaptureRing"/> to the log file with O_DIRECT through its
/// own io_uring, several writes in flight, and tells how far the file is written by one monotonic address.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>Writes cover whole aligned 4 KiB blocks straight from the ring (the ring's bytes are the log's bytes).
/// A partial last block goes out as a zero-padded copy at the end of a write, only when nothing else is in flight,
/// and nothing is submitted until that write completes, so two writes never race on one block; a later write
/// rewrites the block whole.</item>
/// <item><see cref="WrittenUntil"/> advances in address order as completions arrive, and only then is ring memory
/// released to producers: a producer never overwrites bytes the kernel may still be reading.</item>
/// <item>An fdatasync (<see cref="Submit"/> with sync) is submitted only when every committed byte is
/// submitted and every write in flight is linked before it (IOSQE_IO_LINK), so it starts after they all completed
/// (a write that fails or comes up short cancels it, and fails the log anyway): when it completes,
/// <see cref="SyncedUntil"/> (the committed address at its submission) is durable. One is in flight at a time.</item>
/// <item>Write-through (a log opened O_DSYNC): every write is durable when it completes (a block device sends it
/// with FUA), so no fdatasync is submitted and <see cref="SyncedUntil"/> follows <see cref="WrittenUntil"/>.</item>
/// <item>One thread at a time uses an appender (the owner serializes callers); io_uring lets any thread submit and reap.</item>
/// </list>
/// </remarks>
internal sealed unsafe class LogAppender : IDisposable
{
    public const int BlockSize = 4096;
    private const int MaxWriteBytes = 4 << 20;
    private const int Depth = 4;
    private const ulong SyncTag = Depth; // user_data of the fdatasync; write slots use 0..Depth-1

    private readonly int _fd;
    private readonly string _path;
    private readonly CaptureRing _ring;
    private readonly bool _preallocate;
    private readonly bool _writeThrough;
    private readonly IoUringRing _uring;
    private readonly Slot* _slots;       // pinned: the kernel reads the iovecs
    private readonly byte* _headBlock;   // log block 0 (super block + first records), kept to rewrite nr_entries
    private readonly byte* _tailBlock;   // the partial last block, zero-padded past the committed end
    private int _oldest, _inFlight;
    private bool _partialInFlight, _syncInFlight;
    private long _submittedEnd;           // end of the bytes submitted so far, a partial last block included
    private long _syncTarget, _syncTargetEntries;
    private long _allocatedUntil;

    /// <param name="writeThrough">The file was opened O_DSYNC: a completed write is durable.</param>
    public LogAppender(int fd, string path, CaptureRing ring, bool preallocate, bool writeThrough, LogSuperBlock initialSuper)
    {
        _fd = fd;
        _path = path;
        _ring = ring;
        _preallocate = preallocate;
        _writeThrough = writeThrough;
        _uring = IoUringRing.Create(2 * Depth);
        _slots = (Slot*)NativeMemory.AllocZeroed((nuint)(Depth * sizeof(Slot)));
        _headBlock = (byte*)NativeMemory.AlignedAlloc(BlockSize, BlockSize);
        _tailBlock = (byte*)NativeMemory.AlignedAlloc(BlockSize, BlockSize);
        NativeMemory.Clear(_headBlock, BlockSize);
        initialSuper.WriteTo(new Span<byte>(_headBlock, BlockSize));
        // The super block is the ring's first unit; producers start after it, so the first block written carries it.
        initialSuper.WriteTo(ring.UnitAt(0));
    }

    /// <summary>Everything below is on the file (not yet durable: <see cref="Sync"/>).</summary>
    public long WrittenUntil { get; private set; }

    /// <summary>The next address to submit from.</summary>
    public long SubmittedUntil { get; private set; }

    /// <summary>Everything below is durable (an fdatasync issued after it was written completed).</summary>
    public long SyncedUntil { get; private set; }

    /// <summary>The entry count that belongs to <see cref="SyncedUntil"/>, as given to <see cref="Submit"/>.</summary>
    public long SyncedEntries { get; private set; }

    /// <summary>Where the log will be durable once what is in flight completes.</summary>
    public long SyncRequestedUntil => _writeThrough ? _submittedEnd : _syncInFlight ? _syncTarget : SyncedUntil;

    /// <summary>The end of everything submitted (written or in flight), a partial last block included.</summary>
    public long SubmittedEnd => _submittedEnd;

    /// <summary>Writes or an fdatasync are in flight.</summary>
    public bool Busy => _inFlight != 0 || _syncInFlight;

    /// <summary>Why the last call failed; set with its negative errno.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>
    /// Submits writes for <c>[SubmittedUntil, committed)</c> as far as free slots allow and, when
    /// <paramref name="sync"/> and they reach <paramref name="committed"/>, an fdatasync after them that makes
    /// <paramref name="committed"/> durable; all in one system call. <paramref name="entries"/> is the number of
    /// entries below <paramref name="committed"/> (it becomes <see cref="SyncedEntries"/>). 0 or -errno.
    /// </summary>
    public int Submit(long committed, long entries, bool sync)
    {
        int submitted = 0;
        IoUringSqe** writes = stackalloc IoUringSqe*[Depth];
        while (_inFlight < Depth && !_partialInFlight)
        {
            long start = SubmittedUntil;
            long committedBlocks = committed & ~(long)(BlockSize - 1);
            long end = Math.Min(committedBlocks, start + MaxWriteBytes);
            // The partial last block rides along with the blocks before it, in one write, when nothing else is in
            // flight: a flush then costs one write, not two in a row.
            bool withTail = end == committedBlocks && committed > end && _inFlight == 0;
            if (end <= start && !withTail)
                break;
            int index = (_oldest + _inFlight) % Depth;
            Slot* slot = Enqueue(start, withTail ? committed : end, withTail);
            slot->Entries = slot->End == committed ? entries : -1; // elsewhere the write may end inside an entry
            int count = 0;
            if (end > start)
            {
                _ring.GetSpans(start, (int)(end - start), out Span<byte> first, out Span<byte> second);
                slot->Iov[count++] = new IoVec { Base = _ring.PointerAt(start), Length = (nuint)first.Length };
                if (!second.IsEmpty)
                    slot->Iov[count++] = new IoVec { Base = _ring.PointerAt(start + first.Length), Length = (nuint)second.Length };
            }
            if (withTail)
            {
                int tail = (int)(committed - end);
                new Span<byte>(_ring.PointerAt(end), tail).CopyTo(new Span<byte>(_tailBlock, tail));
                new Span<byte>(_tailBlock + tail, BlockSize - tail).Clear();
                slot->Iov[count++] = new IoVec { Base = _tailBlock, Length = BlockSize };
                _partialInFlight = true; // nothing more until it lands; the block is rewritten whole once it fills
            }
            slot->Bytes = (ulong)(end - start) + (withTail ? BlockSize : 0UL);
            SubmittedUntil = end;
            _submittedEnd = slot->End;
            if (start < BlockSize)
                SaveHeadBlock(slot->End);
            long writeEnd = start + (long)slot->Bytes;
            if (_preallocate && writeEnd > _allocatedUntil)
                Preallocate(writeEnd);
            writes[submitted] = _uring.TryGetSqe();
            SqePrep.Writev(writes[submitted], _fd, (IoVec*)&slot->Iov, (uint)count, start, (ulong)index);
            submitted++;
        }
        // Only when every write in flight is one of this call's: they are linked in order to the fdatasync, which so
        // starts after all of them completed (a write that fails or comes up short cancels it).
        if (sync && !_writeThrough && !_syncInFlight && _submittedEnd == committed && committed > SyncedUntil && _inFlight == submitted)
        {
            for (int i = 0; i < submitted; i++)
                writes[i]->Flags |= IoUringConstants.SqeIoLink;
            SqePrep.Fsync(_uring.TryGetSqe(), _fd, dataOnly: true, SyncTag);
            _syncInFlight = true;
            _syncTarget = committed;
            _syncTargetEntries = entries;
            submitted++;
        }
        if (submitted == 0)
            return 0;
        int rc = _uring.Submit();
        return rc < 0 ? Failed(rc, $"io_uring submit to the log {_path} failed: {Libc.ErrorText(-rc)}") : 0;
    }

    /// <summary>Reaps completions (waiting for one if <paramref name="wait"/>), advancing <see cref="WrittenUntil"/>; 0 or -errno.</summary>
    public int Reap(bool wait)
    {
        if (!Busy)
            return 0;
        if (wait && _uring.CqReady == 0)
        {
            int rc = _uring.SubmitAndWait(1);
            if (rc < 0)
                return Failed(rc, $"waiting for log writes to {_path} failed: {Libc.ErrorText(-rc)}");
        }
        int syncResult = 0;
        bool synced = false;
        while (_uring.PeekCqe() is var cqe && cqe != null)
        {
            if (cqe->UserData == SyncTag)
            {
                syncResult = cqe->Result;
                synced = true;
                _uring.AdvanceCq();
                continue;
            }
            Slot* slot = &_slots[(int)cqe->UserData];
            slot->Result = cqe->Result;
            slot->Done = true;
            _uring.AdvanceCq();
        }
        while (_inFlight > 0 && _slots[_oldest].Done)
        {
            Slot* slot = &_slots[_oldest];
            if (slot->Result != (long)slot->Bytes)
            {
                int errno = slot->Result < 0 ? -slot->Result : Libc.ENOSPC; // a short append: the file system is full
                return Failed(-errno, errno == Libc.ENOSPC
                    ? $"the log {_path} ran out of space at byte {slot->Start}; every later request fails"
                    : $"writing the log {_path} at byte {slot->Start} failed: {Libc.ErrorText(errno)}; every later request fails");
            }
            WrittenUntil = Math.Max(WrittenUntil, slot->End);
            if (_writeThrough)
            {
                SyncedUntil = WrittenUntil;
                if (slot->Entries >= 0)
                    SyncedEntries = slot->Entries;
            }
            _partialInFlight &= !slot->Partial;
            slot->Done = false;
            _oldest = (_oldest + 1) % Depth;
            _inFlight--;
            Debug.Assert(WrittenUntil <= _ring.CommittedUntil, "written past the committed records");
            _ring.Release(WrittenUntil & ~(long)(BlockSize - 1));
        }
        if (synced)
        {
            _syncInFlight = false;
            if (syncResult < 0)
                return Failed(syncResult, $"fdatasync of the log {_path} failed: {Libc.ErrorText(-syncResult)}; every later request fails");
            // Linked: every write below the target completed whole before the fdatasync started, so WrittenUntil is past it.
            Debug.Assert(_syncTarget <= WrittenUntil, "an fdatasync covered bytes not yet written");
            SyncedUntil = _syncTarget;
            SyncedEntries = _syncTargetEntries;
        }
        return 0;
    }

    /// <summary>A synchronous fdatasync, for close: covers what is written (<see cref="SyncedUntil"/> is not moved).</summary>
    public int Sync() =>
        Libc.FDataSync(_fd) == 0 ? 0 : Failed(-Libc.Errno, $"fdatasync of the log {_path} failed: {Libc.ErrorText(Libc.Errno)}; every later request fails");

    /// <summary>Rewrites block 0 with <paramref name="super"/>; only while nothing is in flight, so no write races it.</summary>
    public int WriteSuperBlock(LogSuperBlock super)
    {
        super.WriteTo(new Span<byte>(_headBlock, BlockSize));
        if (WrittenUntil < BlockSize)
            super.WriteTo(_ring.UnitAt(0)); // block 0 is still rewritten from the ring; keep it current there too
        while (true)
        {
            nint n = Libc.PWrite(_fd, _headBlock, BlockSize, 0);
            if (n == BlockSize) return 0;
            int errno = n < 0 ? Libc.Errno : Libc.EIO;
            if (errno != Libc.EINTR)
                return Failed(-errno, $"writing the super block of the log {_path} failed: {Libc.ErrorText(errno)}");
        }
    }

    private Slot* Enqueue(long start, long end, bool partial)
    {
        Slot* slot = &_slots[(_oldest + _inFlight) % Depth];
        slot->Start = start;
        slot->End = end;
        slot->Partial = partial;
        slot->Done = false;
        _inFlight++;
        return slot;
    }

    private void SaveHeadBlock(long end)
    {
        int length = (int)Math.Min(end, BlockSize);
        new Span<byte>(_ring.PointerAt(0), length).CopyTo(new Span<byte>(_headBlock, length));
    }

    /// <summary>
    /// Allocates the log file ahead of the writes, so appends do not allocate blocks one write at a time; best
    /// effort (a filesystem without fallocate allocates as it goes).
    /// </summary>
    private void Preallocate(long to)
    {
        const long Step = 64 << 20;
        long until = (to + Step - 1) / Step * Step + Step;
        _allocatedUntil = Libc.FAllocate(_fd, Libc.FALLOC_FL_KEEP_SIZE, _allocatedUntil, until - _allocatedUntil) == 0 ? until : long.MaxValue;
    }

    private int Failed(int negativeErrno, string reason)
    {
        FailureReason = reason;
        return negativeErrno;
    }

    /// <summary>
    /// Waits for writes and an fdatasync still in flight (the kernel may be reading ring memory), then frees. A
    /// slot marked done was reaped already (<see cref="Reap"/> stops at a failed write and leaves it, and the done
    /// slots after it, counted in flight): no completion will come for it, so it is not waited for.
    /// </summary>
    public void Dispose()
    {
        int outstanding = 0;
        for (int k = 0; k < _inFlight; k++)
            outstanding += _slots[(_oldest + k) % Depth].Done ? 0 : 1;
        while ((outstanding > 0 || _syncInFlight) && _uring.SubmitAndWait(1) >= 0)
        {
            while (_uring.PeekCqe() is var cqe && cqe != null)
            {
                if (cqe->UserData == SyncTag) _syncInFlight = false; else outstanding--;
                _uring.AdvanceCq();
            }
        }
        _uring.Dispose();
        NativeMemory.Free(_slots);
        NativeMemory.AlignedFree(_headBlock);
        NativeMemory.AlignedFree(_tailBlock);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Slot
    {
        public long Start, End, Entries;
        public ulong Bytes;
        public int Result;
        public bool Partial, Done;
        public IoVecTriple Iov;
    }

    [System.Runtime.CompilerServices.InlineArray(3)]
    private struct IoVecTriple
    {
        private IoVec _element;
    }
}
