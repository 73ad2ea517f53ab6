using System.Globalization;
using System.Text;

namespace FastLog.Explorer.Report;

/// <summary>
/// <c>explore --report DIR</c>: one self-contained HTML file (inline CSS, script and SVG; nothing fetched, so it
/// opens from file:// and offline) with the run's numbers, a timeline of the log with its failing crash points,
/// and every failure with what to run to reproduce it. Everything that comes from the log or the checker is
/// escaped (<see cref="HtmlText"/>). The page is streamed to a temporary file in DIR and renamed over the report,
/// so a reader never sees half a report; its size is bounded by column and failure caps, not by the log's length.
/// DOM contract for tools and tests: header numbers are <c>#summary [data-stat=NAME][data-count=N]</c>; failing
/// crash points are <c>#timeline [data-crash-entry]</c>, each standing for <c>data-crash-points</c> of them (1 unless
/// there are more than <see cref="TimelineSvg.MaxCrashMarkers"/>); failures shown in full are
/// <c>section.failure[data-state=ID]</c>, and every failure's ID is in <c>#failure-index</c>.
/// </summary>
public static class HtmlReport
{
    public const string FileName = "report.html";

    /// <returns>The report's path: <paramref name="directory"/>/report.html.</returns>
    public static string Write(ReportData data, string directory)
    {
        Directory.CreateDirectory(directory);
        IReadOnlySet<string> rendered = FailureList.RenderedIds(data);
        TimelineColumns layout = TimelineColumns.Build(data, rendered);
        string path = Path.Combine(directory, FileName);
        string temporary = Path.Combine(directory, $".{FileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                using (var w = new StreamWriter(file, new UTF8Encoding(false), 1 << 16, leaveOpen: true))
                    WritePage(w, data, layout);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        return path;
    }

    private static void WritePage(TextWriter w, ReportData data, TimelineColumns layout)
    {
        w.Write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        w.Write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        // No network: nothing may be fetched, not even by a hostile string that got past the escaping.
        w.Write("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
        w.Write("<title>FastLog explore: ");
        HtmlText.Write(w, Path.GetFileName(data.LogPath));
        w.Write(data.StatesFailed > 0 ? $" \u2014 {data.StatesFailed} failed" : " \u2014 all passed");
        w.Write("</title>\n<style>");
        w.Write(ReportAssets.Css);
        w.Write("</style>\n</head>\n<body>\n<main>\n");
        WriteHeader(w, data, layout);
        TimelineSvg.Write(w, data, layout);
        FailureList.Write(w, data);
        w.Write("</main>\n<script>");
        w.Write(ReportAssets.Script);
        w.Write("</script>\n</body>\n</html>\n");
    }

    private static void WriteHeader(TextWriter w, ReportData data, TimelineColumns layout)
    {
        w.Write("<header id=\"summary\">\n<h1>Crash-state exploration</h1>\n<p class=\"log\"><code id=\"log-path\">");
        HtmlText.Write(w, data.LogPath);
        w.Write("</code></p>\n");

        bool failed = data.StatesFailed > 0;
        w.Write(failed ? "<p class=\"verdict fail\">" : data.StatesChecked == 0 ? "<p class=\"verdict none\">" : "<p class=\"verdict pass\">");
        if (!failed && data.StatesChecked == 0)
            w.Write("No state was checked");
        else if (failed)
        {
            w.Write(Grouped(data.StatesFailed));
            w.Write(" of ");
            w.Write(Grouped(data.StatesChecked));
            w.Write(" checked states failed, at ");
            w.Write(Plural(layout.FailingPoints.Count, "crash point", "crash points"));
        }
        else
        {
            w.Write("All ");
            w.Write(Grouped(data.StatesChecked));
            w.Write(" checked states passed");
        }
        if (data.StatesChecked < data.StatesPlanned)
        {
            w.Write(" (");
            w.Write(Grouped(data.StatesPlanned - data.StatesChecked));
            w.Write(" planned states were not checked)");
        }
        w.Write("</p>\n<dl class=\"stats\">\n");
        Stat(w, "device-size", "device", data.DeviceSize, Bytes(data.DeviceSize));
        Stat(w, "sector-size", "sector size", data.SectorSize, Bytes(data.SectorSize));
        Stat(w, "entries", "log entries", data.EntryCount, Grouped(data.EntryCount));
        Stat(w, "epochs", "flush epochs", data.EpochCount, Grouped(data.EpochCount));
        Stat(w, "crash-points", "crash points", data.CrashPoints.Count, Grouped(data.CrashPoints.Count));
        Stat(w, "failing-crash-points", "failing crash points", layout.FailingPoints.Count, Grouped(layout.FailingPoints.Count));
        Stat(w, "states-planned", "states planned", data.StatesPlanned, Grouped(data.StatesPlanned));
        Stat(w, "states-checked", "states checked", data.StatesChecked, Grouped(data.StatesChecked));
        Stat(w, "states-merged", "identical, merged", data.StatesMerged, Grouped(data.StatesMerged));
        Stat(w, "states-failed", "states failed", data.StatesFailed, Grouped(data.StatesFailed));
        Stat(w, "elapsed-ms", "elapsed", (long)data.Elapsed.TotalMilliseconds, Duration(data.Elapsed));
        if (data.Elapsed > TimeSpan.Zero && data.StatesChecked > 0)
        {
            double rate = data.StatesChecked / data.Elapsed.TotalSeconds;
            Stat(w, "states-per-second", "states/s", (long)Math.Round(rate), rate.ToString(rate < 10 ? "0.0" : "N0", CultureInfo.InvariantCulture));
        }
        w.Write("</dl>\n<div class=\"command\"><span class=\"label\">command</span><code id=\"command-line\">");
        HtmlText.Write(w, data.CommandLine);
        w.Write("</code><button type=\"button\" class=\"copy\">copy</button></div>\n<p class=\"meta\">started <time datetime=\"");
        w.Write(data.Started.ToString("O", CultureInfo.InvariantCulture));
        w.Write("\">");
        w.Write(data.Started.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
        w.Write("</time></p>\n</header>\n");
    }

    private static void Stat(TextWriter w, string name, string label, long count, string shown)
    {
        w.Write("<div class=\"stat\" data-stat=\"");
        w.Write(name);
        w.Write("\" data-count=\"");
        w.Write(count);
        w.Write(name == "states-failed" && count > 0 ? "\" data-bad=\"1\"><dt>" : "\"><dt>");
        w.Write(label);
        w.Write("</dt><dd>");
        w.Write(shown);
        w.Write("</dd></div>\n");
    }

    private static string Grouped(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Plural(long n, string one, string many) => $"{Grouped(n)} {(n == 1 ? one : many)}";

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.##} KiB",
        _ => $"{bytes} B",
    };

    private static string Duration(TimeSpan t) => t.TotalSeconds switch
    {
        < 60 => $"{t.TotalSeconds:0.0} s",
        < 3600 => $"{(int)t.TotalMinutes} min {t.Seconds:00} s",
        _ => $"{(int)t.TotalHours} h {t.Minutes:00} min",
    };
}
