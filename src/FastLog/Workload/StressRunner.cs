using System.Diagnostics;
using FastLog.Capture;
using FastLog.Interop;

namespace FastLog.Workload;

/// <summary>
/// Josef Bacik's power-fail workload: random-offset writes into a set of files, each followed with probability
/// <see cref="StressOptions.FsyncRatio"/> by an fsync (or fdatasync) of that file. The content of every write is
/// <see cref="StressContent"/>'s function of (seed, file, offset, write sequence number), and the journal
/// records each write before it is issued and each acknowledged fsync as a promise (then fdatasyncs itself and, with
/// a mark device, marks the log <c>stress:K</c>), so <see cref="OracleVerifier"/> can judge the files later.
/// Memory is O(files) whatever the run's length: the journal is on disk.
/// Stops cleanly at the first I/O error from the device under test, journaling where (a Stop record).
/// </summary>
public static unsafe class StressRunner
{
    /// <exception cref="ArgumentException">Bad options (the message names the option).</exception>
    /// <exception cref="IOException">The journal could not be written, or the mark device never answered.</exception>
    public static StressResult Run(StressOptions options, TextWriter progress, CancellationToken cancel = default)
    {
        if (options.Validate() is { } invalid)
            throw new ArgumentException(invalid);
        if (!System.IO.Directory.Exists(options.Directory))
            throw new ArgumentException($"--dir {options.Directory}: no such directory");
        string journalDir = Path.GetDirectoryName(Path.GetFullPath(options.JournalPath))!;
        if (DeviceOf(journalDir) is { } journalDevice && journalDevice == DeviceOf(options.Directory))
            throw new ArgumentException($"--journal {options.JournalPath} is on the same file system as --dir {options.Directory}: " +
                                        "put it outside the device under test, which may fail");

        var header = new StressJournalHeader(options.Seed, options.Files, options.FileSize, options.WriteMin, options.WriteMax,
            options.FsyncRatio, options.Fdatasync, options.SkipFsyncEvery);
        using var journal = StressJournalWriter.Create(options.JournalPath, header);
        var run = new Session(options, journal, progress);
        try
        {
            return run.Execute(cancel);
        }
        finally
        {
            run.CloseFiles();
        }
    }

    /// <summary>st_dev of a path (statx), or null if it cannot be read.</summary>
    private static ulong? DeviceOf(string path)
    {
        byte* statx = stackalloc byte[256];
        const int AT_FDCWD = -100;
        if (Libc.Statx(AT_FDCWD, path, 0, 0, statx) != 0)
            return null;
        return ((ulong)*(uint*)(statx + 136) << 32) | *(uint*)(statx + 140); // stx_dev_major, stx_dev_minor
    }

    private sealed class Session(StressOptions options, StressJournalWriter journal, TextWriter progress)
    {
        private readonly int[] _fds = Enumerable.Repeat(-1, options.Files).ToArray();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private SplitMix _random = new(options.Seed);
        private long _writes, _promises, _skipped;
        private TimeSpan _nextProgress = options.ProgressInterval;
        private long _writesAtLastProgress, _promisesAtLastProgress;
        private TimeSpan _lastProgress;

        public StressResult Execute(CancellationToken cancel)
        {
            if (CreateFiles() is { } setupFailure)
                return Stop(setupFailure);
            if (options.MarkDevice is { } device && MarkServer.Send(device, StressMarks.Name(0), options.MarkRoot) is { } error)
                throw new IOException($"--mark-device {device}: {error}");
            TimeSpan duration = options.Duration ?? (options.Ops is null ? StressOptions.DefaultDuration : TimeSpan.MaxValue);
            long ops = options.Ops ?? long.MaxValue;
            var buffer = GC.AllocateUninitializedArray<byte>(options.WriteMax);
            int unit = StressContent.UnitSize;
            while (_writes < ops && _clock.Elapsed < duration)
            {
                if (cancel.IsCancellationRequested)
                    return End(interrupted: true);
                int file = (int)_random.Below((ulong)options.Files);
                int length = unit * (int)(options.WriteMin / unit + (long)_random.Below((ulong)((options.WriteMax - options.WriteMin) / unit + 1)));
                long offset = unit * (long)_random.Below((ulong)((options.FileSize - length) / unit + 1));
                if (Write(file, offset, buffer.AsSpan(0, length)) is { } writeFailure)
                    return Stop(writeFailure);
                if (_random.NextDouble() < options.FsyncRatio && Promise(file) is { } promiseFailure)
                    return Stop(promiseFailure);
                if (_clock.Elapsed >= _nextProgress)
                    Progress();
            }
            return End(interrupted: false);
        }

        public void CloseFiles()
        {
            foreach (int fd in _fds)
                if (fd >= 0)
                    Libc.Close(fd);
        }

        /// <summary>Creates (truncates) the files and makes them and their names durable before any write, so a
        /// promise never depends on a directory entry nobody synced.</summary>
        private StressFailure? CreateFiles()
        {
            for (int i = 0; i < options.Files; i++)
            {
                string path = PathOf(i);
                _fds[i] = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_TRUNC | Libc.O_CLOEXEC, 0b110_100_100);
                if (_fds[i] < 0 || Libc.FSync(_fds[i]) != 0)
                    return new StressFailure(StressOp.Open, i, path, 0, -1, Libc.Errno);
            }
            int dir = Libc.Open(options.Directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
            int rc = dir < 0 ? -1 : Libc.FSync(dir);
            int errno = Libc.Errno;
            if (dir >= 0)
                Libc.Close(dir);
            return rc == 0 ? null : new StressFailure(StressOp.Fsync, -1, options.Directory, 0, -1, errno);
        }

        private StressFailure? Write(int file, long offset, Span<byte> data)
        {
            long sequence = ++_writes;
            journal.Append(StressJournalRecord.Write(file, sequence, offset, data.Length));
            StressContent.Fill(data, options.Seed, file, offset, sequence);
            fixed (byte* p = data)
            {
                int done = 0;
                while (done < data.Length)
                {
                    nint n = Libc.PWrite(_fds[file], p + done, (nuint)(data.Length - done), offset + done);
                    if (n < 0 && Libc.Errno == Libc.EINTR)
                        continue;
                    if (n <= 0)
                        return new StressFailure(StressOp.Write, file, PathOf(file), sequence, offset + done, n < 0 ? Libc.Errno : Libc.ENOSPC);
                    done += (int)n;
                }
            }
            return null;
        }

        private StressFailure? Promise(int file)
        {
            long promise = ++_promises;
            bool skip = options.SkipFsyncEvery > 0 && promise % options.SkipFsyncEvery == 0;
            StressOp op = options.Fdatasync ? StressOp.Fdatasync : StressOp.Fsync;
            if (skip)
                _skipped++;
            else if ((options.Fdatasync ? Libc.FDataSync(_fds[file]) : Libc.FSync(_fds[file])) != 0)
                return new StressFailure(op, file, PathOf(file), promise, -1, Libc.Errno);
            journal.Append(StressJournalRecord.Promise(file, promise, _writes, op, skip));
            journal.Sync();
            if (options.MarkDevice is { } device && MarkServer.Send(device, StressMarks.Name(promise), options.MarkRoot) is { } error)
                return new StressFailure(StressOp.Mark, file, PathOf(file), promise, -1, Libc.EIO, error);
            return null;
        }

        private StressResult Stop(StressFailure failure)
        {
            journal.Append(StressJournalRecord.Stopped(failure.Op, failure.FileIndex, failure.Sequence, failure.Offset, failure.Errno));
            journal.Sync();
            return new StressResult(_writes, _promises - (failure.Op is StressOp.Fsync or StressOp.Fdatasync ? 1 : 0), _skipped, _clock.Elapsed, failure, false);
        }

        private StressResult End(bool interrupted)
        {
            journal.Append(StressJournalRecord.Ended(_writes, _promises));
            journal.Sync();
            return new StressResult(_writes, _promises, _skipped, _clock.Elapsed, null, interrupted);
        }

        private void Progress()
        {
            TimeSpan now = _clock.Elapsed;
            double seconds = (now - _lastProgress).TotalSeconds;
            progress.WriteLine($"stress: {now.TotalSeconds:F0} s: {_writes} writes ({(_writes - _writesAtLastProgress) / seconds:F0}/s), " +
                               $"{_promises} promises ({(_promises - _promisesAtLastProgress) / seconds:F0}/s)" +
                               (_skipped > 0 ? $", {_skipped} fsyncs skipped on purpose" : ""));
            progress.Flush();
            (_lastProgress, _writesAtLastProgress, _promisesAtLastProgress) = (now, _writes, _promises);
            _nextProgress = now + options.ProgressInterval;
        }

        private string PathOf(int file) => Path.Combine(options.Directory, StressJournalHeader.FileName(file));
    }

    /// <summary>splitmix64: the workload's choices are a function of the seed alone, so a run can be repeated.</summary>
    private struct SplitMix(ulong seed)
    {
        private ulong _state = seed;

        public ulong Next()
        {
            _state += 0x9E3779B97F4A7C15;
            return StressContent.Mix(_state);
        }

        /// <summary>Uniform in [0, bound) (bound > 0), by rejection so no value is favoured.</summary>
        public ulong Below(ulong bound)
        {
            ulong limit = ulong.MaxValue - ulong.MaxValue % bound;
            ulong value;
            do value = Next(); while (value >= limit);
            return value % bound;
        }

        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
    }
}
