using FastLog.Explorer;

namespace FastLog.Cli.Commands;

/// <summary>
/// Progress of a long run on stderr: one line redrawn in place on a terminal (at most 10 times a second), plain
/// lines every 10 s otherwise (CI logs, files).
/// </summary>
internal sealed class ProgressLine(TextWriter output)
{
    private readonly bool _terminal = !Console.IsErrorRedirected;
    private TimeSpan _last = TimeSpan.FromDays(-1);
    private bool _drawn;
    private readonly object _gate = new();

    public void Report(ExploreProgress p)
    {
        lock (_gate)
        {
            TimeSpan every = _terminal ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(10);
            if (p.Elapsed - _last < every && p.CrashEntry >= 0)
                return;
            _last = p.Elapsed;
            long mine = Math.Max(1, p.Planned - p.Skipped);
            double rate = p.Elapsed.TotalSeconds > 0 ? p.Done / p.Elapsed.TotalSeconds : 0;
            string eta = rate > 0 && mine > p.Done ? TimeSpan.FromSeconds((mine - p.Done) / rate).ToString(@"h\:mm\:ss") : "-";
            string line = $"explore: {p.Done}/{mine} states ({100.0 * p.Done / mine:0}%), {rate:0.0}/s, {p.Merged} merged, {p.Failed} failed, ETA {eta}" +
                          (p.CrashEntry >= 0 ? $", at entry {p.CrashEntry}" : "");
            if (_terminal)
            {
                int width = Math.Max(20, (Console.WindowWidth > 0 ? Console.WindowWidth : 120) - 1);
                output.Write("\r" + (line.Length > width ? line[..width] : line.PadRight(width)));
                _drawn = true;
            }
            else
                output.WriteLine(line);
        }
    }

    /// <summary>A line of its own (a frontend's message, say): the progress line is cleared first and redrawn next time.</summary>
    public void Say(string message)
    {
        lock (_gate)
        {
            if (_terminal && _drawn)
                output.Write("\r\x1b[K");
            _drawn = false;
            output.WriteLine(message);
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            if (_terminal && _drawn)
                output.Write("\r\x1b[K");
            _drawn = false;
        }
    }
}
