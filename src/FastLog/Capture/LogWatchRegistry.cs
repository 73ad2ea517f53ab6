namespace FastLog.Capture;

/// <summary>
/// The <see cref="LogWatch"/>es of one <see cref="CaptureLog"/>: added and removed under a lock, read without one
/// (copy on write), since the log signals them after every advance and watches come and go only with ublk queues.
/// </summary>
internal sealed class LogWatchRegistry
{
    private readonly object _lock = new();
    private LogWatch[] _watches = [];

    public void Add(LogWatch watch)
    {
        lock (_lock)
            Volatile.Write(ref _watches, [.. _watches, watch]);
    }

    public void Remove(LogWatch watch)
    {
        lock (_lock)
            Volatile.Write(ref _watches, Array.FindAll(_watches, w => w != watch));
    }

    /// <summary>Signals each watch whose address was reached (every one when <paramref name="failed"/>). The caller
    /// stored the progress before calling: the fence here orders it before each watch's wanted address is read.</summary>
    public void SignalReached(bool failed)
    {
        LogWatch[] watches = Volatile.Read(ref _watches);
        if (watches.Length == 0)
            return;
        Interlocked.MemoryBarrier();
        foreach (LogWatch watch in watches)
            watch.SignalIfReached(failed);
    }
}
