using System.Diagnostics;
using FastLog.Capture;

namespace FastLog.Benchmarks;

/// <summary>
/// Whole-pipeline append bandwidth, to set beside fio's sequential O_DIRECT bandwidth on the same disk
/// (perf/log-writer-vs-fio.sh): producers append 1 MiB writes to a <see cref="CaptureLog"/>, and the clock stops
/// once the log is closed, i.e. written, end-marked and fdatasync'd.
/// Usage: log-writer FILE SIZE_MIB [PRODUCERS]
/// </summary>
internal static class LogWriterThroughput
{
    public static int Run(string[] args)
    {
        string path = args[0];
        long totalMiB = long.Parse(args[1]);
        int producers = args.Length > 2 ? int.Parse(args[2]) : 1;
        var payload = new byte[1 << 20];
        Random.Shared.NextBytes(payload);
        var clock = Stopwatch.StartNew();
        var log = CaptureLog.Create(path, 512);
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            for (long i = p; i < totalMiB; i += producers)
                if (log.AppendWrite(i << 20, payload) < 0)
                    throw new IOException(log.FailureReason);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        log.Dispose();
        double seconds = clock.Elapsed.TotalSeconds;
        long bytes = new FileInfo(path).Length;
        Console.WriteLine($"log-writer: {bytes / 1e6:F0} MB in {seconds:F2} s = {bytes / 1e6 / seconds:F0} MB/s (O_DIRECT={log.IsDirect}, producers={producers})");
        return 0;
    }
}
