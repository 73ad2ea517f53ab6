using FastLog.Interop;

namespace FastLog.Capture;

/// <summary>
/// How a thread that must not block (a ublk queue driving its own io_uring) waits for the log: it says which address
/// it wants with <see cref="Want"/>, keeps a read armed on <see cref="EventFd"/>, and the log writer writes the
/// eventfd once the log reached that address at this watch's durability, or failed.
/// </summary>
/// <remarks>
/// One wanted address at a time; the watcher wants its lowest outstanding one and wants again after each signal.
/// No signal is lost: the watcher stores the address, fences, then reads the log's progress; the writer stores the
/// progress, fences (<see cref="CaptureLog"/>'s NotifyProgress), then reads the address. One of them sees the other.
/// A signal may be spurious (both saw it); the watcher rechecks its waits on each.
/// </remarks>
internal sealed unsafe class LogWatch : IDisposable
{
    private readonly CaptureLog _log;
    private long _wanted; // 0: nothing
    private int _disposed;

    internal LogWatch(CaptureLog log, LogDurability durability)
    {
        _log = log;
        Durability = durability;
        EventFd = Libc.EventFd(0, Libc.EFD_CLOEXEC);
        if (EventFd < 0)
            throw new IOException($"eventfd failed: {Libc.ErrorText(Libc.Errno)}");
    }

    public LogDurability Durability { get; }

    /// <summary>Becomes readable (8 bytes, a count) when the wanted address is reached.</summary>
    public int EventFd { get; }

    /// <summary>Asks for a signal once the log reached <paramref name="address"/>; false when it already has (or failed), and then none comes.</summary>
    public bool Want(long address)
    {
        _log.RequestFromWriter(address, Durability);
        Volatile.Write(ref _wanted, address);
        Interlocked.MemoryBarrier();
        if (_log.Settled(address, Durability))
        {
            Interlocked.CompareExchange(ref _wanted, 0, address);
            return false;
        }
        return true;
    }

    /// <summary>The writer's side: signals when the wanted address is reached (or, with <paramref name="failed"/>, at all).</summary>
    internal void SignalIfReached(bool failed)
    {
        long wanted = Volatile.Read(ref _wanted);
        if (wanted == 0 || !(failed || _log.Reached(wanted, Durability)))
            return;
        if (Interlocked.CompareExchange(ref _wanted, 0, wanted) != wanted)
            return; // the watcher saw it first or wants something else now
        ulong one = 1;
        Libc.Write(EventFd, &one, sizeof(ulong)); // cannot fail short of a counter overflow
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _log.Unwatch(this);
        Libc.Close(EventFd);
    }
}
