using System.Runtime.CompilerServices;

namespace FastLog.Interop.IoUring;

/// <summary>
/// One io_uring instance with its rings mmap'd and driven from managed code.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>Single-threaded: one thread gets SQEs, submits and reaps (rings may be created with SINGLE_ISSUER).</item>
/// <item>The SQ index array is the identity (filled once at setup), so the SQE for position p is sqes[p &amp; mask].</item>
/// <item>An SQE is written completely before the tail store that publishes it (<see cref="Volatile.Write(ref uint, uint)"/>),
/// and a CQE is read only after an acquire load of the CQ tail and before the release store of the CQ head.</item>
/// <item>SQEs not yet consumed by the kernel are those between the kernel's SQ head and <see cref="_sqeTail"/>; every
/// enter submits all of them, so a partially consumed batch (an error in the middle) is retried, not lost.</item>
/// </list>
/// </remarks>
internal sealed unsafe class IoUringRing : IDisposable
{
    private readonly int _fd;
    private readonly IoUringSetupFlags _flags;
    private readonly int _sqeSize;
    private readonly byte* _sqRing;
    private readonly nuint _sqRingSize;
    private readonly byte* _cqRing;
    private readonly nuint _cqRingSize;
    private readonly byte* _sqes;
    private readonly nuint _sqesSize;
    private readonly uint* _sqHead, _sqTail, _cqHead, _cqTail;
    private readonly uint _sqMask, _cqMask;
    private readonly IoUringCqe* _cqes;
    private uint _sqeTail;
    private int _disposed;

    private IoUringRing(int fd, in IoUringParams p)
    {
        _fd = fd;
        _flags = p.Flags;
        _sqeSize = (p.Flags & IoUringSetupFlags.Sqe128) != 0 ? 128 : 64;
        SqEntries = p.SqEntries;
        CqEntries = p.CqEntries;

        _sqRingSize = p.SqOff.Array + p.SqEntries * sizeof(uint);
        _cqRingSize = p.CqOff.Cqes + p.CqEntries * (uint)sizeof(IoUringCqe);
        bool single = (p.Features & IoUringConstants.FeatSingleMmap) != 0;
        if (single)
            _sqRingSize = _cqRingSize = Math.Max(_sqRingSize, _cqRingSize);
        _sqesSize = (nuint)(p.SqEntries * _sqeSize);
        _sqRing = Map(_sqRingSize, IoUringConstants.OffSqRing);
        try
        {
            _cqRing = single ? _sqRing : Map(_cqRingSize, IoUringConstants.OffCqRing);
            try
            {
                _sqes = Map(_sqesSize, IoUringConstants.OffSqes);
            }
            catch
            {
                if (!single)
                    Mman.Munmap(_cqRing, _cqRingSize);
                throw;
            }
        }
        catch
        {
            Mman.Munmap(_sqRing, _sqRingSize);
            throw;
        }

        _sqHead = (uint*)(_sqRing + p.SqOff.Head);
        _sqTail = (uint*)(_sqRing + p.SqOff.Tail);
        _sqMask = *(uint*)(_sqRing + p.SqOff.RingMask);
        _cqHead = (uint*)(_cqRing + p.CqOff.Head);
        _cqTail = (uint*)(_cqRing + p.CqOff.Tail);
        _cqMask = *(uint*)(_cqRing + p.CqOff.RingMask);
        _cqes = (IoUringCqe*)(_cqRing + p.CqOff.Cqes);
        uint* array = (uint*)(_sqRing + p.SqOff.Array);
        for (uint i = 0; i < p.SqEntries; i++)
            array[i] = i;
        _sqeTail = *_sqTail;
    }

    public int Fd => _fd;
    public uint SqEntries { get; }
    public uint CqEntries { get; }
    public IoUringSetupFlags Flags => _flags;
    public bool HasSqe128 => _sqeSize == 128;

    /// <summary>Creates a ring; throws <see cref="IOException"/> with the errno text when the kernel refuses.</summary>
    public static IoUringRing Create(uint entries, IoUringSetupFlags flags = IoUringSetupFlags.None, uint cqEntries = 0)
    {
        int rc = TryCreate(entries, flags, cqEntries, out IoUringRing? ring);
        return rc == 0 ? ring! : throw new IOException($"io_uring_setup({entries}, {flags}) failed: {Libc.ErrorText(-rc)}", -rc);
    }

    /// <summary>Creates a ring, or returns -errno (e.g. -EINVAL for flags this kernel lacks) without throwing.</summary>
    public static int TryCreate(uint entries, IoUringSetupFlags flags, uint cqEntries, out IoUringRing? ring)
    {
        ring = null;
        IoUringParams p = default;
        p.Flags = flags | (cqEntries != 0 ? IoUringSetupFlags.CqSize : 0);
        p.CqEntries = cqEntries;
        int fd = IoUringNative.Setup(entries, &p);
        if (fd < 0)
            return fd;
        try
        {
            ring = new IoUringRing(fd, p);
            return 0;
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// Creates a ring with the first of <paramref name="flagChoices"/> this kernel accepts (newer flags first),
    /// so a ring asks for SINGLE_ISSUER|DEFER_TASKRUN where available and still runs on older kernels.
    /// </summary>
    public static IoUringRing CreateBest(uint entries, uint cqEntries, params ReadOnlySpan<IoUringSetupFlags> flagChoices)
    {
        int rc = -Libc.EINVAL;
        foreach (IoUringSetupFlags flags in flagChoices)
        {
            rc = TryCreate(entries, flags, cqEntries, out IoUringRing? ring);
            if (rc == 0)
                return ring!;
            if (rc != -Libc.EINVAL)
                break;
        }
        throw new IOException($"io_uring_setup({entries}) failed: {Libc.ErrorText(-rc)}", -rc);
    }

    /// <summary>SQEs written but not yet consumed by the kernel.</summary>
    public uint Pending => _sqeTail - Volatile.Read(ref *_sqHead);

    /// <summary>
    /// The next free SQE, zeroed (all 128 bytes with SQE128), or null when the SQ is full (submit first).
    /// It is published by the next <see cref="Submit"/>.
    /// </summary>
    public IoUringSqe* TryGetSqe()
    {
        if (_sqeTail - Volatile.Read(ref *_sqHead) >= SqEntries)
            return null;
        IoUringSqe* sqe = (IoUringSqe*)(_sqes + (nuint)((_sqeTail & _sqMask) * _sqeSize));
        Unsafe.InitBlockUnaligned(sqe, 0, (uint)_sqeSize);
        _sqeTail++;
        return sqe;
    }

    /// <summary>Publishes the SQEs taken so far and submits them; returns how many the kernel consumed, or -errno.</summary>
    public int Submit() => Enter(0, -1);

    /// <summary>Submits and waits until at least <paramref name="minComplete"/> CQEs are ready.</summary>
    public int SubmitAndWait(uint minComplete) => Enter(minComplete, -1);

    /// <summary>Like <see cref="SubmitAndWait(uint)"/> but gives up waiting after <paramref name="timeoutNs"/>; a timeout is not an error (returns 0).</summary>
    public int SubmitAndWait(uint minComplete, long timeoutNs) => Enter(minComplete, timeoutNs);

    private int Enter(uint minComplete, long timeoutNs)
    {
        Volatile.Write(ref *_sqTail, _sqeTail);
        while (true)
        {
            uint toSubmit = _sqeTail - Volatile.Read(ref *_sqHead);
            // DEFER_TASKRUN only posts completions while we wait in the kernel, so always ask for events then.
            bool getEvents = minComplete > 0 || (_flags & IoUringSetupFlags.DeferTaskrun) != 0;
            if (toSubmit == 0 && !getEvents)
                return 0;
            if (minComplete > 0 && CqReady > 0)
                minComplete = 0; // already have what the caller waits for; just submit (and run task work)
            int rc = timeoutNs >= 0 && minComplete > 0
                ? IoUringNative.EnterTimeout(_fd, toSubmit, minComplete, 0, timeoutNs)
                : IoUringNative.Enter(_fd, toSubmit, minComplete, getEvents ? IoUringConstants.EnterGetEvents : 0);
            if (rc >= 0)
                return rc;
            if (rc == -IoUringConstants.ETIME)
                return 0;
            if (rc == -Libc.EINTR)
                continue; // signals are routine in .NET (GC suspension); whatever was consumed stays consumed
            if (rc == -Libc.EBUSY || rc == -Libc.EAGAIN)
            {
                // CQ overflow backlog or transient resource shortage: the caller must reap before we can go on.
                if (CqReady > 0)
                    return 0;
                Thread.Yield();
                continue;
            }
            return rc;
        }
    }

    /// <summary>CQEs ready to be reaped.</summary>
    public uint CqReady => Volatile.Read(ref *_cqTail) - *_cqHead;

    /// <summary>The oldest unreaped CQE, or null; valid until <see cref="AdvanceCq"/>.</summary>
    public IoUringCqe* PeekCqe()
    {
        uint head = *_cqHead;
        return head == Volatile.Read(ref *_cqTail) ? null : &_cqes[head & _cqMask];
    }

    /// <summary>Hands <paramref name="count"/> reaped CQEs back to the kernel.</summary>
    public void AdvanceCq(uint count = 1) => Volatile.Write(ref *_cqHead, *_cqHead + count);

    /// <summary>Submits, waits for one CQE and returns a copy of it (for slow paths: control commands, tests).</summary>
    public IoUringCqe SubmitAndWaitOne()
    {
        while (true)
        {
            IoUringCqe* cqe = PeekCqe();
            if (cqe != null)
            {
                IoUringCqe copy = *cqe;
                AdvanceCq();
                return copy;
            }
            int rc = SubmitAndWait(1);
            if (rc < 0)
                throw new IOException($"io_uring_enter failed: {Libc.ErrorText(-rc)}", -rc);
        }
    }

    private byte* Map(nuint size, long offset)
    {
        void* p = Mman.Mmap(null, size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_POPULATE, _fd, offset);
        if (p == Mman.MapFailed)
            throw new IOException($"mmap of io_uring ring failed: {Libc.ErrorText(Libc.Errno)}");
        return (byte*)p;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Mman.Munmap(_sqes, _sqesSize);
        if (_cqRing != _sqRing)
            Mman.Munmap(_cqRing, _cqRingSize);
        Mman.Munmap(_sqRing, _sqRingSize);
        Libc.Close(_fd);
    }
}
