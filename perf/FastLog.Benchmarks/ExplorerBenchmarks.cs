using System.Collections;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using FastLog.Explorer;
using FastLog.LogFormat;
using Microsoft.Win32.SafeHandles;

namespace FastLog.Benchmarks;

/// <summary>
/// The crash-state explorer's in-process parts, on a real log: one epoch of 64 writes of 4 KiB at random aligned
/// offsets of a 1 GiB device (what `generate-log --device-mib 1024 --write-kib 4 --flush-every 64` writes), over a
/// sparse 1 GiB durable image in /var/tmp. One op = one state (Build, Hash), one read (Read) or one planned state (Plan).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class ExplorerBenchmarks
{
    private const int EpochWrites = 64, WriteBytes = 4096, SectorSize = 512, SampledStates = 1000;
    private const long DeviceBytes = 1L << 30;

    private string _directory = null!;
    private SafeFileHandle _log = null!;
    private CrashPoint _point64 = null!, _point10 = null!;
    private CrashState[] _states = null!;
    private OverlayExtent[] _landing = null!;
    private Overlay _overlay = null!;
    private CrashStateBackend _backend = null!;
    private byte[] _buffer = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine("/var/tmp", $"fastlog-explorer-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(_directory);
        string logPath = Path.Combine(_directory, "epoch.log");
        var place = new Random(7);
        byte[] payload = new byte[WriteBytes];
        new Random(42).NextBytes(payload);
        using (var writer = LogWriter.Create(logPath, SectorSize))
        {
            writer.AppendMark("start");
            for (int i = 0; i < EpochWrites; i++)
            {
                payload[0] = (byte)i;
                writer.AppendWrite((ulong)(place.NextInt64(DeviceBytes / WriteBytes) * WriteBytes / SectorSize), payload);
            }
            writer.Close();
        }
        LogIndex index = LogIndex.Build(logPath);
        _point64 = CrashPoint.At(index, [EpochWrites]).Single(); // after the last write: all 64 volatile
        if (_point64.Volatile.Count != EpochWrites)
            throw new InvalidOperationException($"expected {EpochWrites} volatile writes, got {_point64.Volatile.Count}");
        _point10 = CrashPoint.At(index, [10]).Single();
        _log = File.OpenHandle(logPath);
        _states = Enumerable.Range(0, 256)
            .Select(n => new CrashState(_point64.Entry, CrashState.RandomSubset(_point64.Entry, EpochWrites, n), randomSample: n))
            .ToArray();
        _landing = _point64.Volatile.Select(w => new OverlayExtent(w.Offset, w.Length, w.PayloadOffset)).ToArray();
        _overlay = StateOverlay.Build(_point64, new CrashState(_point64.Entry, new BitArray(EpochWrites, true)), SectorSize);

        string durable = Path.Combine(_directory, "durable.img");
        using (var image = new FileStream(durable, FileMode.Create, FileAccess.Write))
            image.SetLength(DeviceBytes);
        _backend = new CrashStateBackend(durable, _log, Path.Combine(_directory, "scratch.img"), SectorSize);
        _backend.Present(_overlay);
        _buffer = GC.AllocateUninitializedArray<byte>(131072, pinned: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _backend.Dispose();
        _log.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private int Next() => _next = (_next + 1) & 255;

    /// <summary>The 64 writes of the epoch resolved into disjoint extents (later wins).</summary>
    [Benchmark]
    public Overlay Resolve64() => Overlay.Resolve(_landing);

    /// <summary>A random subset of the 64 volatile writes turned into the overlay that presents it (includes Resolve).</summary>
    [Benchmark]
    public Overlay BuildState64() => StateOverlay.Build(_point64, _states[Next()], SectorSize);

    [Benchmark(Description = "Read 4 KiB")]
    public int Read4KiB() => ReadOverOverlay(4096);

    [Benchmark(Description = "Read 128 KiB")]
    public int Read128KiB() => ReadOverOverlay(131072);

    /// <summary>A read that starts at one of the overlay's extents (aligned down to the read size): overlay + durable image.</summary>
    private int ReadOverOverlay(int bytes)
    {
        OverlayExtent e = _overlay.Extents[Next() % _overlay.Extents.Length];
        long offset = Math.Min(e.Offset / bytes * bytes, DeviceBytes - bytes);
        int rc = _backend.Read(offset, _buffer.AsSpan(0, bytes));
        return rc == 0 ? rc : throw new IOException($"read at {offset}: {rc}");
    }

    /// <summary>The identical-state check's hash of a 64-write overlay (256 KiB read from the log and hashed).</summary>
    [Benchmark]
    public UInt128 ContentHash64() => _overlay.ContentHash(_log);

    /// <summary>Every subset of a 10-write epoch (1,024 states); one op = one state.</summary>
    [Benchmark(OperationsPerInvoke = 1024)]
    public int PlanExhaustive10() => PlanCount(_point10, 1024, 1024);

    /// <summary>1,000 states of a 64-write epoch: sizes 0-2, co-sizes 1-2 and seeded random subsets, taking turns.</summary>
    [Benchmark(OperationsPerInvoke = SampledStates)]
    public int PlanSampled64() => PlanCount(_point64, SampledStates, SampledStates);

    private static int PlanCount(CrashPoint point, long budget, int expected)
    {
        int count = 0;
        foreach ((CrashPoint _, IEnumerable<CrashState> states) in StatePlanner.Plan([point], new PlanOptions { Budget = budget, AtomicUnit = SectorSize }))
            foreach (CrashState state in states)
            {
                count++;
                _ = state.Id; // the explorer names every state it checks
            }
        if (count != expected)
            throw new InvalidOperationException($"planned {count} states, expected {expected}");
        return count;
    }
}
