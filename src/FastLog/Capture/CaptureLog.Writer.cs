using System.Diagnostics;
using FastLog.LogFormat;

namespace FastLog.Capture;

public sealed partial class CaptureLog
{
    private void WriterLoop()
    {
        long lastSuper = Stopwatch.GetTimestamp();
        long superTicks = (long)(_options.SuperBlockInterval.TotalSeconds * Stopwatch.Frequency);
        // Only a log I/O error ends the loop early; after a full log device it still drains what was committed.
        while (true)
        {
            bool closing = _closing;
            bool quiet = true;
            // A waiter holding the appender does everything committed itself; the writer then naps and looks again.
            // On close it waits for the lock, so it cannot spin.
            if (closing) Monitor.Enter(_appenderLock);
            else if (!Monitor.TryEnter(_appenderLock)) quiet = false;
            if (quiet || closing)
            {
                try
                {
                    // Every SuperBlockInterval the log is also made durable unasked, so that nr_entries moves at
                    // every level: with `written` and `ordered` nothing else syncs it before close.
                    bool superDue = Stopwatch.GetTimestamp() - lastSuper >= superTicks;
                    bool wantDurable = Volatile.Read(ref _durableRequested) > Volatile.Read(ref _durableUntil) || closing
                        || (superDue && _ring.CommittedUntil > Volatile.Read(ref _durableUntil));
                    if (!Pump(wantDurable, wait: true, out long committed))
                        return;
                    quiet = !_appender.Busy && _writtenUntil == committed; // everything committed this round is on file
                    if (!_appender.Busy && _durableEntries != _superEntries && (closing || superDue))
                    {
                        if (!Ok(_appender.WriteSuperBlock(new LogSuperBlock((ulong)_durableEntries, (uint)SectorSize))))
                            return;
                        _superEntries = _durableEntries;
                        lastSuper = Stopwatch.GetTimestamp();
                    }
                    bool drained = (_ring.CommittedUntil >= _ring.ReservedUntil || _ring.Failure != 0)
                        && quiet && _ring.CommittedUntil == committed && _durableUntil == _writtenUntil;
                    if (closing && drained && _superEntries == _durableEntries)
                    {
                        Ok(_appender.Sync());
                        return;
                    }
                }
                finally
                {
                    Monitor.Exit(_appenderLock);
                }
                if (!quiet || Wanted() || _closing)
                    continue;
            }
            // A full fence between announcing sleep and re-checking: a waiter that missed the flag has already
            // published its request (it, too, fences between publishing and reading the flag).
            Interlocked.Exchange(ref _writerSleeping, 1);
            // With everything written, nap long: an idle capture then costs no wake-ups, and the writes that arrive
            // before the next FLUSH go out with it in one log write. Producers wake the writer at WakeBytes.
            bool allWritten = quiet && _ring.ReservedUntil <= Volatile.Read(ref _writtenUntil);
            // The last look, after the fence: a producer that found the writer awake has published its commit mark.
            if ((!Wanted() || !quiet) && !(quiet && WakeDue()))
            {
                _wake.Wait(allWritten ? _options.SuperBlockInterval : _options.WriterInterval);
                Volatile.Write(ref _writerNaps, _writerNaps + 1);
            }
            Volatile.Write(ref _writerSleeping, 0);
            _wake.Reset();
        }
    }

    /// <summary>True when producers have claimed WakeBytes past what is written and the next record is committed:
    /// a nap now would leave them stalled on a full ring for nothing.</summary>
    private bool WakeDue() =>
        _ring.ReservedUntil - Volatile.Read(ref _writtenUntil) >= _options.WakeBytes && _ring.IsCommittedAt(_ring.CommittedUntil);

    /// <summary>
    /// One round of log I/O, by whoever holds <see cref="_appenderLock"/>: submits what is committed (and, when
    /// <paramref name="wantDurable"/>, an fdatasync after it that covers all of it, entries counted to match), reaps
    /// completions (waiting for one if <paramref name="wait"/> and anything is in flight) and publishes
    /// <see cref="WrittenUntil"/> and <see cref="DurableUntil"/>. False when the log failed.
    /// </summary>
    private bool Pump(bool wantDurable, bool wait, out long committed)
    {
        committed = _ring.AdvanceCommitted(ref _entries);
        if (!Ok(_appender.Submit(committed, _entries, wantDurable)) || !Ok(_appender.Reap(wait && _appender.Busy)))
            return false;
        Debug.Assert(_appender.SyncedUntil <= _appender.WrittenUntil, "DurableUntil never passes WrittenUntil");
        bool advanced = false;
        if (_appender.WrittenUntil != _writtenUntil)
        {
            Volatile.Write(ref _writtenUntil, _appender.WrittenUntil);
            advanced = true;
        }
        if (_appender.SyncedUntil > _durableUntil)
        {
            Volatile.Write(ref _durableEntries, _appender.SyncedEntries);
            Volatile.Write(ref _durableUntil, _appender.SyncedUntil);
            advanced = true;
        }
        if (advanced)
            NotifyProgress();
        return true;
    }
}
