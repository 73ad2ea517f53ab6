using FastLog.Interop;
using Microsoft.Win32.SafeHandles;

namespace FastLog.Replay;

/// <summary>
/// Keeps the kernel reading the log ahead of the replay (POSIX_FADV_WILLNEED on the next stretch), so payload
/// reads find the page cache warm even when the log is cold on the same disk the replay writes to.
/// </summary>
internal sealed class LogPrefetcher
{
    private const long Stretch = 32L << 20;
    private readonly SafeFileHandle _log;
    private readonly long _length;
    private long _advisedUntil;

    public LogPrefetcher(SafeFileHandle log, long length)
    {
        _log = log;
        _length = length;
        Advise(0, Libc.POSIX_FADV_SEQUENTIAL, _length);
    }

    /// <summary>Called with the log offset about to be read; advises the next stretch when the last runs low.</summary>
    public void Reading(long offset)
    {
        if (offset + Stretch / 2 < _advisedUntil || _advisedUntil >= _length)
            return;
        long from = Math.Max(offset, _advisedUntil);
        long until = Math.Min(_length, offset + 2 * Stretch);
        Advise(from, Libc.POSIX_FADV_WILLNEED, until - from);
        _advisedUntil = until;
    }

    private void Advise(long offset, int advice, long length) =>
        FileDescriptor.With(_log, fd => Libc.PosixFAdvise(fd, offset, length, advice)); // advice only: failure is harmless
}
