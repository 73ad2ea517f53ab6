using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FastLog.Explorer.Checkers;
using FastLog.LogFormat;
using FastLog.Replay;
using Microsoft.Win32.SafeHandles;

namespace FastLog.Explorer;

/// <summary>A snapshot for progress displays.</summary>
public readonly record struct ExploreProgress(long Planned, long Done, long Checked, long Merged, long Failed, long Skipped, TimeSpan Elapsed, int CrashEntry);

/// <summary>Per crash point: states decided here and how many failed.</summary>
public sealed record CrashPointTally(int Entry, int States, int Failed);

/// <summary>Per strategy: states decided and how many failed.</summary>
public sealed record StrategyTally(string Strategy, int States, int Failed);

public sealed record ExploreSummary(
    long Planned, long Done, long Checked, long Merged, long Failed, long SkippedOtherShards, long Resumed, bool Interrupted,
    int CrashPoints, TimeSpan Elapsed, IReadOnlyList<StateResult> Failures, IReadOnlyList<CrashPointTally> Points)
{
    public IReadOnlyList<StrategyTally> Strategies { get; init; } = [];
}

/// <summary>
/// Walks the log once, from crash point to crash point, and checks every planned state on devices of its own.
/// </summary>
/// <remarks>
/// <para>Materialization is O(changed blocks) per state: the durable image is one working copy, advanced entry by
/// entry as the walk passes completed flushes (never replayed from entry 0); a state is that image plus an overlay
/// of pointers into the log (<see cref="StateOverlay"/>), served by <see cref="StateDevice"/>.</para>
/// <para>Invariant that lets jobs check states of different crash points while the working copy moves on: the working
/// copy holds every content entry before <c>_durableUntil</c>, which never passes the last completed flush of any
/// state in flight, and each state's overlay also carries the durable writes between the working copy's position
/// when it was built and its own last flush. Every block the working copy changes later is therefore covered by
/// the overlay of every state in flight, and no state ever reads a block while it changes.</para>
/// </remarks>
public sealed class CrashExplorer : IDisposable
{
    private readonly ExploreOptions _options;
    private readonly LogIndex _index;
    private readonly SafeFileHandle _log;
    private readonly string _workDirectory;
    private readonly string _durablePath;
    private readonly ReplayTarget _durable;
    private int _durableUntil; // every content entry before this one is in the working copy
    private readonly SortedDictionary<int, int> _inFlightFlushes = new(); // last completed flush of states in flight -> count
    private readonly object _gate = new();

    public CrashExplorer(ExploreOptions options)
    {
        _options = options;
        _index = LogIndexFile.OpenOrBuild(options.LogPath);
        if (_index.Count == 0)
            throw new LogFormatException($"{options.LogPath}: the log has no entries: nothing to explore");
        DeviceSize = ResolveSize(options.LogPath, options.BaseImage, options.DeviceSize, _index);
        CheckRanges(_index, DeviceSize);
        _log = File.OpenHandle(options.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        RemoveStaleWorkDirectories(options.WorkRoot);
        _workDirectory = Directory.CreateDirectory(Path.Combine(options.WorkRoot, $"{WorkDirectoryPrefix}{Environment.ProcessId}.{Path.GetRandomFileName()}")).FullName;
        _durablePath = Path.Combine(_workDirectory, "durable.img");
        try
        {
            if (options.BaseImage is { } image)
                File.Copy(image, _durablePath);
            else
                using (var stream = new FileStream(_durablePath, FileMode.CreateNew))
                    stream.SetLength(DeviceSize);
            _durable = ReplayTarget.Open(_durablePath, direct: false);
        }
        catch
        {
            Directory.Delete(_workDirectory, recursive: true);
            _log.Dispose();
            throw;
        }
    }

    public long DeviceSize { get; }
    public LogIndex Index => _index;

    /// <summary>
    /// The device size: --size, else the base image's, else what capture recorded (a <c>fastlog:size=N</c> mark).
    /// A log that says nothing and no size given is a usage error.
    /// </summary>
    public static long ResolveSize(string logPath, string? baseImage, long? deviceSize, LogIndex index)
    {
        long? fromBase = baseImage is not null ? new FileInfo(baseImage).Length : null;
        if (deviceSize is long given)
        {
            if (fromBase is long b && b != given)
                throw new ArgumentException($"--size {given} differs from the base image {baseImage} ({b} bytes)");
            return given;
        }
        return fromBase ?? RecordedSize(index) ?? throw new ArgumentException(
            $"{logPath}: the log does not record the device's size (logs of the kernel's dm-log-writes do not): give --size or --base");
    }

    /// <summary>The size a FastLog capture records as its first entry, a mark <c>fastlog:size=N</c>.</summary>
    public static long? RecordedSize(LogIndex index)
    {
        foreach ((int _, string name) in index.MarkNames)
            if (name.StartsWith(Capture.CaptureLog.SizeMarkPrefix, StringComparison.Ordinal)
                && long.TryParse(name.AsSpan(Capture.CaptureLog.SizeMarkPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long size))
                return size;
        return null;
    }

    /// <summary>Every write and discard of the log lies inside the device (a LogFormatException naming the first that does not).</summary>
    internal static void CheckRanges(LogIndex index, long size)
    {
        for (int i = 0; i < index.Count; i++)
        {
            ref readonly LogIndexEntry e = ref index[i];
            if (e.NrSectors == 0 || e.IsMark) continue;
            ulong end = (e.Sector + e.NrSectors) * (ulong)index.SectorSize;
            if (e.Sector > long.MaxValue / (ulong)index.SectorSize || end > (ulong)size || end < e.Sector)
                throw new LogFormatException(index.LogPath, i, e.HeaderOffset,
                    $"sectors {e.Sector}+{e.NrSectors} reach past the device's {size} bytes (wrong --size or --base?)");
        }
    }

    /// <summary>The crash points the options select, with their volatile writes.</summary>
    public IReadOnlyList<CrashPoint> CrashPoints()
    {
        int[] points = StatePlanner.SelectPoints(_index, _options.Points);
        if (_options.AfterMark is { } mark)
            points = StatePlanner.After(_index, points, mark);
        return CrashPoint.At(_index, points).ToList();
    }

    /// <param name="say">Hears what the state devices' frontends have to tell the user (see <see cref="Frontends.IBlockFrontend"/>).</param>
    public ExploreSummary Run(Action<ExploreProgress>? progress = null, CancellationToken stop = default, Action<string>? say = null)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<CrashPoint> points = CrashPoints();
        long planned = StatePlanner.Quotas(points.Select(p => StatePlanner.Capacity(p, _options.Plan)).ToArray(), _options.Plan.Budget).Sum();
        _options.Checker.EnsureAvailable(); // before anything is written: a checker that cannot run is a usage error
        Dictionary<string, StateResult> previous = _options.Resume && _options.ReportDirectory is { } dir
            ? ResultsLog.Read(dir).GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.First()) : [];
        using ResultsLog? results = _options.ReportDirectory is { } reportDir ? new ResultsLog(reportDir, _options.Resume) : null;
        var tally = new Tally(planned);
        var failures = new List<StateResult>();
        var perPoint = new SortedDictionary<int, (int States, int Failed)>();
        var perStrategy = new SortedDictionary<string, (int States, int Failed)>(StringComparer.Ordinal);

        void Record(StateResult r, bool fresh)
        {
            lock (_gate)
            {
                if (fresh) results?.Append(r);
                tally.Done++;
                if (r.MergedInto is not null) tally.Merged++; else if (fresh) tally.Checked++;
                if (r.Outcome == StateOutcome.Failed)
                {
                    tally.Failed++;
                    if (failures.Count < 10_000) failures.Add(r);
                }
                perPoint.TryGetValue(r.CrashEntry, out var t);
                perPoint[r.CrashEntry] = (t.States + 1, t.Failed + (r.Outcome == StateOutcome.Failed ? 1 : 0));
                perStrategy.TryGetValue(r.Strategy, out t);
                perStrategy[r.Strategy] = (t.States + 1, t.Failed + (r.Outcome == StateOutcome.Failed ? 1 : 0));
            }
        }

        using var queue = new BlockingCollection<WorkItem>(Math.Max(2, _options.Jobs * 2));
        var jobs = new List<Thread>();
        var jobErrors = new ConcurrentQueue<Exception>();
        var devices = new List<StateDevice>();
        try
        {
            for (int j = 0; j < _options.Jobs; j++)
            {
                string jobDirectory = Path.Combine(_workDirectory, $"job{j}");
                Directory.CreateDirectory(jobDirectory);
                var device = new StateDevice(_durablePath, _log, jobDirectory, _index.SectorSize, say);
                devices.Add(device);
                var thread = new Thread(() =>
                {
                    try { Job(device, jobDirectory, queue, Record); }
                    catch (Exception e) { jobErrors.Enqueue(e); while (queue.TryTake(out WorkItem? w)) Finished(w); }
                }) { IsBackground = true, Name = $"explore-job{j}" };
                jobs.Add(thread);
                thread.Start();
            }

            var representatives = new Dictionary<(int, UInt128), Representative>();
            int durableGeneration = int.MinValue;
            bool interrupted = false;
            foreach ((CrashPoint point, IEnumerable<CrashState> states) in StatePlanner.Plan(points, _options.Plan))
            {
                if (point.LastDurableContent != durableGeneration)
                {
                    representatives.Clear(); // states over other durable images can never be identical to these
                    durableGeneration = point.LastDurableContent;
                }
                foreach (CrashState state in states)
                {
                    if (stop.IsCancellationRequested || !jobErrors.IsEmpty) { interrupted = true; break; }
                    Overlay window = StateOverlay.Build(point, state, _options.Plan.AtomicUnit);
                    UInt128 hash = window.ContentHash(_log);
                    var key = (point.LastDurableContent, hash);
                    if ((int)(((ulong)hash ^ (uint)point.LastDurableContent) % (ulong)_options.ShardCount) != _options.ShardIndex)
                    {
                        tally.Skipped++;
                        continue;
                    }
                    string keyText = $"{point.LastDurableContent}:{hash:x32}";
                    if (previous.TryGetValue(state.Id, out StateResult? done))
                    {
                        tally.Resumed++;
                        Record(done, fresh: false);
                        if (done.MergedInto is null && !representatives.ContainsKey(key))
                            representatives[key] = Representative.Completed(done);
                        continue;
                    }
                    if (representatives.TryGetValue(key, out Representative? rep))
                    {
                        if (rep.AddDuplicate(d => Describe(point, state, keyText, d.Outcome, d.Output, rep.Id, null)) is { } now)
                            Record(now, fresh: true);
                        continue;
                    }
                    var representative = new Representative(state.Id);
                    representatives[key] = representative;
                    int flush = point.LastCompletedFlush;
                    Overlay serving;
                    lock (_gate)
                    {
                        AdvanceDurable(Math.Min(flush, _inFlightFlushes.Count > 0 ? _inFlightFlushes.First().Key : flush));
                        _inFlightFlushes[flush] = _inFlightFlushes.GetValueOrDefault(flush) + 1;
                        serving = DurableDelta(flush) is { Count: > 0 } delta
                            ? StateOverlay.Build(point, state, _options.Plan.AtomicUnit, delta) : window;
                    }
                    var item = new WorkItem(point, state, serving, keyText, representative, flush);
                    while (!queue.TryAdd(item, 200)) // a job that died consumes nothing: do not wait for it forever
                        if (!jobErrors.IsEmpty) { Finished(item); interrupted = true; break; }
                    if (interrupted) break;
                    progress?.Invoke(tally.Snapshot(clock.Elapsed, point.Entry));
                }
                if (interrupted) break;
            }
            queue.CompleteAdding();
            while (jobs.Any(t => t.IsAlive))
            {
                foreach (Thread t in jobs) t.Join(TimeSpan.FromMilliseconds(500));
                progress?.Invoke(tally.Snapshot(clock.Elapsed, -1));
            }
            if (jobErrors.TryDequeue(out Exception? error))
                throw new IOException($"a job failed: {error.Message}", error);
            progress?.Invoke(tally.Snapshot(clock.Elapsed, -1));
            return new ExploreSummary(tally.Planned, tally.Done, tally.Checked, tally.Merged, tally.Failed, tally.Skipped, tally.Resumed,
                interrupted, points.Count, clock.Elapsed, failures,
                perPoint.Select(p => new CrashPointTally(p.Key, p.Value.States, p.Value.Failed)).ToList())
            {
                Strategies = perStrategy.Select(p => new StrategyTally(p.Key, p.Value.States, p.Value.Failed)).ToList(),
            };
        }
        finally
        {
            if (!queue.IsAddingCompleted) queue.CompleteAdding();
            foreach (Thread t in jobs) t.Join();
            foreach (StateDevice d in devices) d.Dispose();
        }

        void Job(StateDevice device, string jobDirectory, BlockingCollection<WorkItem> work, Action<StateResult, bool> record)
        {
            foreach (WorkItem item in work.GetConsumingEnumerable())
            {
                try
                {
                    CheckOutcome outcome = Check(device, jobDirectory, item.Point, item.State, item.Serving);
                    MinimizedState? minimized = outcome.Passed || _options.MinimizeBudget == 0 || item.Point.Volatile.Count == 0 ? null
                        : Minimize(device, jobDirectory, item.Point, item.State);
                    StateResult result = Describe(item.Point, item.State, item.Key, outcome.Passed ? StateOutcome.Passed : StateOutcome.Failed,
                        outcome.Output, null, minimized);
                    record(result, true);
                    foreach (StateResult duplicate in item.Representative.Complete(result))
                        record(duplicate, true);
                }
                finally
                {
                    Finished(item);
                }
            }
        }
    }

    private void Finished(WorkItem item)
    {
        lock (_gate)
        {
            if (--_inFlightFlushes[item.LastCompletedFlush] == 0)
                _inFlightFlushes.Remove(item.LastCompletedFlush);
        }
    }

    private CheckOutcome Check(StateDevice device, string jobDirectory, CrashPoint point, CrashState state, Overlay overlay)
    {
        device.Present(overlay);
        var context = new CheckContext(device.DevicePath, state, point, jobDirectory, _options.CheckTimeout, device.Backend.Read);
        return _options.Checker.Check(context);
    }

    /// <summary>
    /// The smallest set of persisted writes that still fails, and the smallest set of dropped writes; modifiers
    /// (torn, zeroed, ...) stay, and so do the writes they modify.
    /// </summary>
    private MinimizedState Minimize(StateDevice device, string jobDirectory, CrashPoint point, CrashState failing)
    {
        int k = point.Volatile.Count, checks = 0;
        var pinned = failing.Modifiers.Select(m => m.Write).ToHashSet();
        List<int> persisted = Enumerable.Range(0, k).Where(i => failing.Persisted[i] && !pinned.Contains(i)).ToList();
        int budget = _options.MinimizeBudget;
        bool FailsWith(IEnumerable<int> kept)
        {
            var bits = new BitArray(k);
            foreach (int i in kept.Concat(pinned)) bits[i] = true;
            var candidate = new CrashState(point.Entry, bits, failing.Modifiers, "minimized");
            checks++;
            Overlay overlay;
            lock (_gate)
                overlay = StateOverlay.Build(point, candidate, _options.Plan.AtomicUnit, DurableDelta(point.LastCompletedFlush));
            return !Check(device, jobDirectory, point, candidate, overlay).Passed;
        }
        IReadOnlyList<int> fewestPersisted = Minimizer.Minimize(persisted, FailsWith, budget / 2);
        // The other view: everything persisted except the fewest dropped writes.
        List<int> all = Enumerable.Range(0, k).Where(i => !pinned.Contains(i)).ToList();
        List<int> dropped = all.Except(persisted).ToList();
        IReadOnlyList<int>? fewestDropped = dropped.Count == 0 ? null
            : Minimizer.Minimize(dropped, d => FailsWith(all.Except(d)), budget - checks);
        CrashState State(IEnumerable<int> kept)
        {
            var bits = new BitArray(k);
            foreach (int i in kept.Concat(pinned)) bits[i] = true;
            return new CrashState(point.Entry, bits, failing.Modifiers, "minimized");
        }
        return new MinimizedState(
            State(fewestPersisted).Id, fewestPersisted.Select(i => point.Volatile[i].Entry).ToArray(),
            fewestDropped is null ? null : State(all.Except(fewestDropped)).Id,
            fewestDropped?.Select(i => point.Volatile[i].Entry).ToArray(), checks);
    }

    /// <summary>The durable writes not yet in the working copy for a state whose last completed flush is <paramref name="flush"/>.</summary>
    private List<LoggedWrite> DurableDelta(int flush)
    {
        var delta = new List<LoggedWrite>();
        for (int i = _durableUntil; i < flush; i++)
            if (ContentOf(i) is { } w) delta.Add(w);
        return delta;
    }

    /// <summary>Applies content entries up to (not including) <paramref name="until"/> to the working copy.</summary>
    private void AdvanceDurable(int until)
    {
        if (until <= _durableUntil)
            return;
        for (int i = _durableUntil; i < until; i++)
        {
            ref readonly LogIndexEntry e = ref _index[i];
            if (!e.IsMark)
                _durable.Apply(_log, e, _index.SectorSize);
        }
        _durable.Drain();
        _durableUntil = until;
    }

    private LoggedWrite? ContentOf(int entry)
    {
        ref readonly LogIndexEntry e = ref _index[entry];
        if (e.NrSectors == 0 || e.IsMark) return null;
        int s = _index.SectorSize;
        return new LoggedWrite(entry, (long)e.Sector * s, (long)e.NrSectors * s, e.IsDiscard ? -1 : e.HeaderOffset + s);
    }

    private static StateResult Describe(CrashPoint point, CrashState state, string key, StateOutcome outcome, string output, string? mergedInto, MinimizedState? minimized)
    {
        var persisted = new List<int>();
        var dropped = new List<int>();
        for (int i = 0; i < point.Volatile.Count; i++)
            (state.Persisted[i] ? persisted : dropped).Add(point.Volatile[i].Entry);
        return new StateResult(state.Id, point.Entry, state.Strategy, key, outcome, mergedInto, point.LastMark,
            persisted, dropped, Details(point, state), output, minimized);
    }

    /// <summary>What the state's modifiers did, in words for the report.</summary>
    public static IReadOnlyList<string> Details(CrashPoint point, CrashState state) => state.Modifiers.Select(m =>
    {
        LoggedWrite w = point.Volatile[m.Write];
        return m.Fate switch
        {
            WriteFate.Torn => $"entry {w.Entry} torn: of its {Math.Clamp(w.Length / 512, 1, 64)} pieces only mask 0x{m.Units:x} persisted",
            WriteFate.Zeroed => $"entry {w.Entry} (bytes {w.Offset}+{w.Length}) reads back as zeros",
            WriteFate.Garbage => $"entry {w.Entry} (bytes {w.Offset}+{w.Length}) reads back as random bytes",
            WriteFate.OlderVersion => $"entry {w.Entry} landed after the later writes that overlap it: its older version shows",
            _ => m.ToString(),
        };
    }).ToArray();

    private const string WorkDirectoryPrefix = "fastlog-explore.";

    /// <summary>
    /// Removes the work directories (a device-sized durable image each) of explorers that were killed: those named by
    /// a process that no longer exists and with nothing mounted under them (a mount left by a killed checker is the
    /// user's to look at; deleting through it would write the state it shows). Returns how many.
    /// </summary>
    internal static int RemoveStaleWorkDirectories(string root)
    {
        if (!Directory.Exists(root))
            return 0;
        string[] mounts = File.Exists("/proc/self/mounts")
            ? File.ReadAllLines("/proc/self/mounts").Select(l => l.Split(' ') is { Length: > 1 } f ? f[1] : "").ToArray()
            : [];
        int removed = 0;
        foreach (string dir in Directory.GetDirectories(root, WorkDirectoryPrefix + "*"))
        {
            string rest = Path.GetFileName(dir)[WorkDirectoryPrefix.Length..];
            int dot = rest.IndexOf('.');
            if (dot <= 0 || !int.TryParse(rest[..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)
                || Interop.Libc.ProcessExists(pid) || mounts.Any(m => m == dir || m.StartsWith(dir + "/", StringComparison.Ordinal)))
                continue;
            try
            {
                Directory.Delete(dir, recursive: true);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* another explorer is removing it */ }
        }
        return removed;
    }

    public void Dispose()
    {
        _durable.Dispose();
        _log.Dispose();
        try { Directory.Delete(_workDirectory, recursive: true); } catch (IOException) { /* a job's mount still busy: leave it */ }
    }

    private sealed record WorkItem(CrashPoint Point, CrashState State, Overlay Serving, string Key, Representative Representative, int LastCompletedFlush);

    private sealed class Tally(long planned)
    {
        public long Planned = planned, Done, Checked, Merged, Failed, Skipped, Resumed;
        public ExploreProgress Snapshot(TimeSpan elapsed, int entry) =>
            new(Planned, Volatile.Read(ref Done), Volatile.Read(ref Checked), Volatile.Read(ref Merged), Volatile.Read(ref Failed), Volatile.Read(ref Skipped), elapsed, entry);
    }

    /// <summary>The first state with a given key: it is checked, and every later identical state takes its result.</summary>
    private sealed class Representative(string id)
    {
        private StateResult? _result;
        private readonly List<Func<StateResult, StateResult>> _waiting = [];
        public string Id { get; } = id;

        public static Representative Completed(StateResult result) => new(result.Id) { _result = result };

        /// <summary>Registers a duplicate; returns its result at once if the representative is done.</summary>
        public StateResult? AddDuplicate(Func<StateResult, StateResult> describe)
        {
            lock (_waiting)
            {
                if (_result is { } r)
                    return describe(r);
                _waiting.Add(describe);
                return null;
            }
        }

        public IReadOnlyList<StateResult> Complete(StateResult result)
        {
            lock (_waiting)
            {
                _result = result;
                var done = _waiting.Select(d => d(result)).ToList();
                _waiting.Clear();
                return done;
            }
        }
    }
}
