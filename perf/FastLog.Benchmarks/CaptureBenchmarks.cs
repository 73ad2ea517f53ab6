using BenchmarkDotNet.Attributes;
using FastLog.Backends;
using FastLog.Capture;

namespace FastLog.Benchmarks;

/// <summary>
/// The managed fast path at full speed: requests through a <see cref="LoggingBackend"/> over memory, the log on
/// /tmp. One op = one request. Allocated must read 0 B: a request allocates nothing in steady state.
/// </summary>
[MemoryDiagnoser]
public class CaptureBenchmarks
{
    private LoggingBackend _device = null!;
    private byte[] _block = null!;
    private long _next;
    private string _log = null!;

    [Params(4096, 65536)]
    public int WriteBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _log = Path.Combine(Environment.GetEnvironmentVariable("FASTLOG_BENCH_DIR") ?? Path.GetTempPath(), $"fastlog-bench-{Environment.ProcessId}.log");
        _device = new LoggingBackend(new MemoryBackend(256 << 20), CaptureLog.Create(_log, 512));
        _block = new byte[WriteBytes];
        Random.Shared.NextBytes(_block);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _device.Dispose();
        File.Delete(_log);
    }

    [Benchmark(Description = "write")]
    public int Write()
    {
        long offset = _next;
        _next = (_next + WriteBytes) % (256 << 20);
        return _device.Write(offset, _block, fua: false);
    }

    [Benchmark(Description = "write+flush (durable log)")]
    public int WriteFlush()
    {
        long offset = _next;
        _next = (_next + WriteBytes) % (256 << 20);
        _device.Write(offset, _block, fua: false);
        return _device.Flush();
    }
}
