using BenchmarkDotNet.Attributes;
using FastLog.Capture;

namespace FastLog.Benchmarks;

/// <summary>
/// The lock-free staging ring alone: reserve, copy, commit a record while a consumer thread drains and releases,
/// as the log writer does, minus the I/O. One op = one record.
/// </summary>
[MemoryDiagnoser]
public class RingBenchmarks
{
    private CaptureRing _ring = null!;
    private Thread _consumer = null!;
    private volatile bool _stop;
    private byte[] _payload = null!;

    [Params(512, 4096)]
    public int RecordBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ring = new CaptureRing(16 << 20, 512, 512);
        _payload = new byte[RecordBytes];
        _consumer = new Thread(() =>
        {
            long records = 0;
            while (!_stop)
                _ring.Release(_ring.AdvanceCommitted(ref records) & ~4095L);
        }) { IsBackground = true };
        _consumer.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _consumer.Join();
        _ring.Dispose();
    }

    [Benchmark(OperationsPerInvoke = 10_000)]
    public void ReserveCopyCommit()
    {
        for (int i = 0; i < 10_000; i++)
        {
            _ring.TryReserve(_payload.Length, out long address);
            _ring.Write(address, _payload);
            _ring.Commit(address, _payload.Length);
        }
    }
}
