using FastLog.Backends;
using FastLog.Interop;
using FastLog.LogFormat;
using Microsoft.Win32.SafeHandles;

namespace FastLog.Replay;

/// <summary>
/// replay-log (xfstests src/log-writes/replay-log.c), option for option, but seeking with a <see cref="LogIndex"/> instead of
/// walking the log and writing through a coalescing <see cref="ReplayTarget"/>. Messages and exit codes are
/// replay-log's so xfstests' common/dmlogwrites works unchanged; FastLog's own errors (damaged log, I/O) are
/// one line naming the file, and exit 1.
/// </summary>
public sealed class LogReplayer(ReplayOptions options, TextWriter output, TextWriter error)
{
    /// <summary>Result counters of the last <see cref="Run"/>, for tests and benchmarks.</summary>
    public long EntriesReplayed { get; private set; }
    public long BytesWritten { get; private set; }
    public long WriteCalls { get; private set; }

    /// <summary>Runs the options' mode (find, count, info or replay) and returns the process exit code.</summary>
    public int Run()
    {
        try
        {
            return RunUnguarded();
        }
        catch (LogFormatException e)
        {
            output.Flush();
            error.WriteLine(e.Message);
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            output.Flush();
            error.WriteLine(e.Message);
            return 1;
        }
    }

    private int RunUnguarded()
    {
        LogIndex index;
        try
        {
            index = LogIndexFile.OpenOrBuild(options.LogPath, options.Scan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"Couldn't open log {options.LogPath}: {e.Message}");
            return 1;
        }
        if (options.Scan)
            error.WriteLine($"scan: nr_entries={index.NrEntries}, recovered {index.RecoveredEntries} more entries, stopped at {index.ScanStopReason ?? "the end of the log"}");
        // With a scan the log ends where the scan stopped, but never before nr_entries: damage inside the
        // declared entries must still surface as an error, not as a shorter log.
        long entryCount = options.Scan ? Math.Max(index.Count, index.DeclaredEntryCount) : index.DeclaredEntryCount;

        ReplayTarget? target = null;
        if (options.ReplayPath is { } replayPath)
        {
            if (FileBackend.AreSameFile(options.LogPath, replayPath))
            {
                error.WriteLine($"Couldn't open replay file {replayPath}: it is the log {options.LogPath} itself (same device and inode); replaying onto it would overwrite the log");
                return 1;
            }
            try
            {
                target = ReplayTarget.Open(replayPath, options.Direct, options.Verbosity > 0 ? output : null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"Couldn't open replay file {replayPath}: {e.Message}");
                return 1;
            }
        }
        using (target)
        {
            long start = SeekStart(index, entryCount);
            if (start < 0)
                return 1;
            if ((options.FsckCommand is null) != (options.Check is null))
            {
                error.WriteLine("--fsck and --check must be given together");
                return 1;
            }
            if (options.Find)
                return Find(index, start, entryCount);
            // nr_entries is printed as the super block has it (replay-log's %llu), even where the count used clamps.
            string shownCount = options.Scan ? entryCount.ToString() : index.NrEntries.ToString();
            if (options.PrintEntryCount)
            {
                output.WriteLine(shownCount);
                return 0;
            }
            if (target is null)
            {
                output.WriteLine($"Log version={LogSuperBlock.Version}, sectorsize={index.SectorSize}, entries={shownCount}");
                return 0;
            }
            return Replay(index, target, start, entryCount);
        }
    }

    /// <summary>The first entry to replay, or -1 after printing replay-log's error.</summary>
    private long SeekStart(LogIndex index, long entryCount)
    {
        if (options.StartMark is { } startMark)
        {
            int mark = index.FindMark(startMark, 0);
            if (mark < 0 || mark >= entryCount)
            {
                index.ThrowIfDamaged(entryCount - 1);
                error.WriteLine("Couldn't find starting mark");
                return -1;
            }
            PrintSeeks(index, 0, mark, withFlagNames: true);
            return mark + 1;
        }
        if (options.StartEntry >= (ulong)entryCount)
        {
            error.WriteLine("Invalid entry number");
            return -1;
        }
        long start = (long)options.StartEntry;
        index.ThrowIfDamaged(start - 1);
        PrintSeeks(index, 0, start - 1, withFlagNames: false);
        return start;
    }

    private int Find(LogIndex index, long start, long entryCount)
    {
        long stop = ReplayStop.Find(index, options, start, entryCount);
        index.ThrowIfDamaged(stop >= 0 ? stop : entryCount - 1);
        PrintSeeks(index, start, stop >= 0 ? stop : entryCount - 1, withFlagNames: true);
        if (stop < 0)
        {
            output.Flush();
            error.WriteLine("Couldn't find entry");
            return 1;
        }
        output.WriteLine($"{stop}@{index[(int)stop].NextOffset(index.SectorSize) / index.SectorSize}");
        return 0;
    }

    private int Replay(LogIndex index, ReplayTarget target, long start, long entryCount)
    {
        long stop = ReplayStop.Find(index, options, start, entryCount);
        long last = stop >= 0 ? stop : entryCount - 1;
        int exitCode = 0;
        // The index validated every header when it was built, so replay reads only payloads, straight into
        // the target's coalescing buffers; headers are never read twice.
        using SafeFileHandle log = StorageFile.OpenForReading(options.LogPath);
        var prefetcher = new LogPrefetcher(log, LogFileIdentity.SizeOf(log, options.LogPath).Size);
        Exception? failure = null;
        try
        {
            ulong replayed = 0;
            for (long i = start; i <= last; i++)
            {
                if (i >= index.Count)
                {
                    index.ThrowIfDamaged(i); // replay-log stops at a malformed entry after replaying those before it
                    break;
                }
                ref readonly LogIndexEntry entry = ref index[(int)i];
                try
                {
                    Apply(log, prefetcher, target, i, entry, index.SectorSize);
                }
                catch (TargetRangeException e)
                {
                    throw new LogFormatException(options.LogPath, i, entry.HeaderOffset, e.Message);
                }
                replayed++;
                if (options.Check is { } check && check.IsDue(replayed, index.CompletedFlags((int)i)) && !RunFsck(target))
                {
                    error.WriteLine($"Fsck errored out on entry {i}");
                    exitCode = 1;
                    break;
                }
            }
            EntriesReplayed = (long)replayed;
        }
        catch (Exception e) when (e is LogFormatException or IOException)
        {
            failure = e;
        }
        output.Flush();
        Exception? syncFailure = null;
        try
        {
            target.Sync(); // replay-log fsyncs even when it stops on an error
        }
        catch (IOException e)
        {
            syncFailure = e;
        }
        BytesWritten = target.BytesWritten;
        WriteCalls = target.WriteCalls;
        if (failure is not null || syncFailure is not null)
        {
            ReportInLogOrder(target.WriteFailure, failure?.Message, syncFailure?.Message);
            return 1;
        }
        return exitCode;
    }

    private void Apply(SafeFileHandle log, LogPrefetcher prefetcher, ReplayTarget target, long number, in LogIndexEntry entry, int sectorSize)
    {
        // replay-log's log_should_skip: entries with sectors outside [start, end] are skipped, but a discard
        // is applied before that test is consulted, so discards ignore the range.
        bool skip = entry.NrSectors != 0 && (entry.Sector + entry.NrSectors <= options.StartSector || entry.Sector > options.EndSector);
        ulong size = entry.NrSectors * (ulong)sectorSize;
        long payloadOffset = entry.HeaderOffset + sectorSize;
        if (options.Verbosity > 1 || (options.Verbosity > 0 && !skip))
            output.WriteLine($"{(skip ? "skipping" : "replaying")} {number}@{payloadOffset / sectorSize}: sector {entry.Sector}, size {size}, flags 0x{(ulong)entry.Flags:x}({LogEntryFlagsText.Describe(entry.Flags)})");
        if (entry.IsDiscard ? options.NoDiscard : skip)
            return;
        if (!entry.IsDiscard)
            prefetcher.Reading(payloadOffset);
        target.Apply(log, entry, sectorSize);
    }

    /// <summary>
    /// Reports every distinct error of a replay, the first one first, so a later one never hides it: a failed
    /// write of the target (found late: writes are queued) belongs to entries before the one the replay stopped at,
    /// and the final fsync comes after both.
    /// </summary>
    private void ReportInLogOrder(params string?[] errors)
    {
        string[] distinct = errors.OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        for (int i = 0; i < distinct.Length; i++)
            error.WriteLine(i == 0 ? distinct[i] : $"then: {distinct[i]}");
    }

    private bool RunFsck(ReplayTarget target)
    {
        target.Sync();
        output.Flush();
        return FsckHook.Run(options.FsckCommand!);
    }

    /// <summary>replay-log's <c>-vv</c> lines for entries it walks over without replaying, first..last inclusive.</summary>
    private void PrintSeeks(LogIndex index, long first, long last, bool withFlagNames)
    {
        if (options.Verbosity < 2)
            return;
        int sectorSize = index.SectorSize;
        for (long i = first; i <= last && i < index.Count; i++)
        {
            ref readonly LogIndexEntry e = ref index[(int)i];
            // log_seek_entry reports the header's own sector and no names; log_seek_next_entry the sector after it.
            if (withFlagNames)
                output.WriteLine($"seek entry {i}@{e.HeaderOffset / sectorSize + 1}: {e.Sector}, size {e.NrSectors}, flags 0x{(ulong)e.Flags:x}({LogEntryFlagsText.Describe(e.Flags)})");
            else
                output.WriteLine($"seek entry {i}@{e.HeaderOffset / sectorSize}: {e.Sector}, size {e.NrSectors}, flags 0x{(ulong)e.Flags:x}");
        }
    }
}
