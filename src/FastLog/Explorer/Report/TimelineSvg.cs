using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FastLog.Explorer.Report;

/// <summary>
/// The timeline section: an inline SVG of the log's columns (marks, write density by kind over epoch bands,
/// flushes, crash points) with the failing crash points as links to their first failure, and the per-column
/// numbers the page script shows on hover. Size: O(columns + failing-crash markers), both capped, whatever the
/// log's length.
/// </summary>
internal static class TimelineSvg
{
    /// <summary>Past this many failing crash points, one marker per column stands for all of the column's.</summary>
    public const int MaxCrashMarkers = 2000;

    private const double TargetWidth = 1290, MinColumnWidth = 2, MaxColumnWidth = 24;
    private const int MarkLaneTop = 0, LanesTop = 36, BarsHeight = 90, FlushTop = 96, FlushHeight = 12,
        CrashTop = 114, CrashHeight = 8, LanesHeight = 124, FailTop = LanesTop + LanesHeight + 2, AxisTop = FailTop + 26,
        Height = AxisTop + 16;
    private const int MaxMarkLabel = 24;

    public static void Write(TextWriter w, ReportData data, TimelineColumns layout)
    {
        IReadOnlyList<TimelineColumn> columns = layout.Columns;
        w.Write("<section id=\"timeline\" data-entries=\"");
        w.Write(data.Timeline.Count);
        w.Write("\" data-columns=\"");
        w.Write(columns.Count);
        w.Write("\" data-entries-per-column=\"");
        w.Write(layout.EntriesPerColumn);
        w.Write("\" data-failing-crash-points=\"");
        w.Write(layout.FailingPoints.Count);
        w.Write("\">\n<h2>Timeline</h2>\n");
        if (columns.Count == 0)
        {
            w.Write("<p class=\"note\">The log has no entries.</p>\n</section>\n");
            return;
        }

        double cw = Math.Clamp(TargetWidth / columns.Count, MinColumnWidth, MaxColumnWidth);
        double width = Math.Ceiling(cw * columns.Count);
        WriteCaption(w, data, layout);
        w.Write("<div class=\"timeline-scroll\"><svg id=\"timeline-svg\" xmlns=\"http://www.w3.org/2000/svg\" width=\"");
        w.Write(Num(width));
        w.Write("\" height=\"");
        w.Write(Height);
        w.Write("\" data-column-width=\"");
        w.Write(Num(cw));
        w.Write("\" role=\"img\" aria-label=\"timeline of the log\">\n");

        WriteMarks(w, columns, cw);
        // The dense part draws one unit per column and is stretched to the pixel width: integer coordinates.
        w.Write("<svg x=\"0\" y=\"");
        w.Write(LanesTop);
        w.Write("\" width=\"");
        w.Write(Num(width));
        w.Write("\" height=\"");
        w.Write(LanesHeight);
        w.Write("\" viewBox=\"0 0 ");
        w.Write(columns.Count);
        w.Write(' ');
        w.Write(LanesHeight);
        w.Write("\" preserveAspectRatio=\"none\" shape-rendering=\"crispEdges\">\n");
        WriteEpochBands(w, columns);
        WriteBars(w, layout, data.SectorSize);
        WriteLaneTicks(w, columns, "flush", FlushTop, FlushHeight, c => c.Flushes > 0);
        WriteLaneTicks(w, columns, "cp", CrashTop, CrashHeight, c => c.CrashPoints > 0 && c.FailingCrashPoints == 0);
        WriteLaneTicks(w, columns, "cp-failed", CrashTop, CrashHeight, c => c.FailingCrashPoints > 0);
        w.Write("</svg>\n");
        WriteEpochLabels(w, columns, cw); // over the bands, so after them
        WriteLaneNames(w);
        WriteFailingMarkers(w, layout, cw);
        WriteAxis(w, layout, cw, width);
        w.Write("<line id=\"timeline-cursor\" x1=\"-10\" x2=\"-10\" y1=\"");
        w.Write(LanesTop);
        w.Write("\" y2=\"");
        w.Write(FailTop + 14);
        w.Write("\"/>\n</svg></div>\n<div id=\"timeline-tip\" hidden></div>\n");
        WriteLegend(w);
        WriteColumnData(w, columns, cw);
        w.Write("</section>\n");
    }

    private static void WriteCaption(TextWriter w, ReportData data, TimelineColumns layout)
    {
        w.Write("<p class=\"note\">");
        if (layout.EntriesPerColumn <= 1)
            w.Write("One column per log entry; bar height is the entry's size (log scale). ");
        else
        {
            w.Write(Count(data.Timeline.Count, "entry", "entries"));
            w.Write(" in ");
            w.Write(layout.Columns.Count);
            w.Write(" columns of up to ");
            w.Write(layout.EntriesPerColumn);
            w.Write(" entries; bar height is the share of data writes in a column. ");
        }
        w.Write("Shaded bands are flush epochs (grey where a column spans several). Crash points are marked below the lanes; ");
        w.Write("a red marker is a crash point where some state failed: click it to see the failure. Hover for numbers.");
        if (layout.FailingPoints.Count > MaxCrashMarkers)
        {
            w.Write(" There are ");
            w.Write(layout.FailingPoints.Count);
            w.Write(" failing crash points: one marker per column stands for all of the column's.");
        }
        w.Write("</p>\n");
    }

    private static void WriteMarks(TextWriter w, IReadOnlyList<TimelineColumn> columns, double cw)
    {
        var flags = new StringBuilder();
        double labelEnd = double.MinValue;
        w.Write("<g class=\"mark-labels\">");
        for (int c = 0; c < columns.Count; c++)
        {
            TimelineColumn column = columns[c];
            if (column.Marks == 0) continue;
            double x = (c + 0.5) * cw;
            flags.Append(CultureInfo.InvariantCulture, $"M{Num(x)} {LanesTop - 2}V{LanesTop - 16}l8 4-8 4z");
            if (x < labelEnd) continue;
            string name = column.FirstMark ?? "(unnamed)";
            if (name.Length > MaxMarkLabel) name = string.Concat(name.AsSpan(0, MaxMarkLabel - 1), "\u2026");
            string more = column.Marks > 1 ? $" +{column.Marks - 1}" : "";
            w.Write("<text x=\"");
            w.Write(Num(x - 1));
            w.Write("\" y=\"");
            w.Write(MarkLaneTop + 16);
            w.Write("\">");
            HtmlText.Write(w, name);
            w.Write(more);
            w.Write("</text>");
            labelEnd = x + (name.Length + more.Length) * 6.4 + 10;
        }
        w.Write("</g>\n<path class=\"mark-flags\" d=\"");
        w.Write(flags);
        w.Write("\"/>\n");
    }

    private static void WriteEpochLabels(TextWriter w, IReadOnlyList<TimelineColumn> columns, double cw)
    {
        w.Write("<g class=\"epoch-labels\">");
        double labelEnd = double.MinValue;
        foreach ((int start, int end, int epoch) in EpochRuns(columns))
        {
            double x = start * cw, runWidth = (end - start) * cw;
            if (epoch < 0 || x < labelEnd) continue;
            string label = $"epoch {epoch}";
            if (runWidth < label.Length * 5.6 + 6) label = epoch.ToString(CultureInfo.InvariantCulture);
            if (runWidth < label.Length * 5.6 + 6) continue;
            w.Write("<text x=\"");
            w.Write(Num(x + 3));
            w.Write("\" y=\"");
            w.Write(LanesTop + 11);
            w.Write("\">");
            w.Write(label);
            w.Write("</text>");
            labelEnd = x + runWidth;
        }
        w.Write("</g>\n");
    }

    /// <summary>Runs of columns inside one epoch; runs of columns spanning several epochs have epoch -1.</summary>
    private static IEnumerable<(int Start, int End, int Epoch)> EpochRuns(IReadOnlyList<TimelineColumn> columns)
    {
        int start = 0;
        for (int c = 1; c <= columns.Count; c++)
        {
            int epoch = EpochOf(columns[start]);
            if (c < columns.Count && EpochOf(columns[c]) == epoch) continue;
            yield return (start, c, epoch);
            start = c;
        }

        static int EpochOf(TimelineColumn column) => column.SingleEpoch ? column.FirstEpoch : -1;
    }

    private static void WriteEpochBands(TextWriter w, IReadOnlyList<TimelineColumn> columns)
    {
        var even = new StringBuilder();
        var odd = new StringBuilder();
        var mixed = new StringBuilder();
        foreach ((int start, int end, int epoch) in EpochRuns(columns))
        {
            StringBuilder path = epoch < 0 ? mixed : epoch % 2 == 0 ? even : odd;
            path.Append(CultureInfo.InvariantCulture, $"M{start} 0h{end - start}v{BarsHeight}h-{end - start}z");
        }
        WritePath(w, "band-even", even);
        WritePath(w, "band-odd", odd);
        WritePath(w, "band-mixed", mixed);
    }

    /// <summary>
    /// Stacked bars: writes at the bottom, FUA writes, then discards. With a column per entry the height is the
    /// entry's size (log scale: 4 KiB and 1 MiB both stay visible); with buckets, the share of data operations.
    /// </summary>
    private static void WriteBars(TextWriter w, TimelineColumns layout, int sectorSize)
    {
        IReadOnlyList<TimelineColumn> columns = layout.Columns;
        var writes = new StringBuilder();
        var fuas = new StringBuilder();
        var discards = new StringBuilder();
        const double MinBar = 6, MaxBar = BarsHeight - 14;
        bool perEntry = layout.EntriesPerColumn <= 1;
        double unit = Math.Max(1, sectorSize);
        double maxLog = perEntry ? columns.Max(c => Math.Log2(1 + (c.BytesWritten + c.BytesDiscarded) / unit)) : 0;
        double share = layout.MaxEntriesInColumn == 0 ? 0 : MaxBar / layout.MaxEntriesInColumn;
        for (int c = 0; c < columns.Count; c++)
        {
            TimelineColumn column = columns[c];
            if (column.DataOps == 0) continue;
            double total = perEntry
                ? MinBar + (MaxBar - MinBar) * (maxLog == 0 ? 1 : Math.Log2(1 + (column.BytesWritten + column.BytesDiscarded) / unit) / maxLog)
                : Math.Max(1, column.DataOps * share);
            double bottom = BarsHeight;
            Stack(writes, column.Writes);
            Stack(fuas, column.FuaWrites);
            Stack(discards, column.Discards);

            void Stack(StringBuilder path, int count)
            {
                if (count == 0) return;
                double h = Math.Max(0.5, total * count / column.DataOps);
                bottom -= h;
                path.Append(CultureInfo.InvariantCulture, $"M{c} {Num(bottom)}h1v{Num(h)}h-1z");
            }
        }
        WritePath(w, "bar-write", writes);
        WritePath(w, "bar-fua", fuas);
        WritePath(w, "bar-discard", discards);
    }

    private static void WriteLaneTicks(TextWriter w, IReadOnlyList<TimelineColumn> columns, string cssClass, int top, int height,
        Func<TimelineColumn, bool> marked)
    {
        var path = new StringBuilder();
        for (int c = 0; c < columns.Count; c++)
        {
            if (!marked(columns[c])) continue;
            int run = c;
            while (run + 1 < columns.Count && marked(columns[run + 1])) run++;
            path.Append(CultureInfo.InvariantCulture, $"M{c} {top}h{run - c + 1}v{height}h-{run - c + 1}z");
            c = run;
        }
        WritePath(w, cssClass, path);
    }

    private static void WriteLaneNames(TextWriter w)
    {
        // At the left end, over the ticks (a halo keeps them legible): where the scroll box starts, so always in view.
        w.Write("<g class=\"lane-names\"><text x=\"4\" y=\"");
        w.Write(LanesTop + FlushTop + 10);
        w.Write("\">flush</text><text x=\"4\" y=\"");
        w.Write(LanesTop + CrashTop + 8);
        w.Write("\">crash points</text></g>\n");
    }

    private static void WriteFailingMarkers(TextWriter w, TimelineColumns layout, double cw)
    {
        IReadOnlyList<FailingCrashPoint> points = layout.FailingPoints;
        w.Write("<g id=\"failing-crash-points\">");
        bool perColumn = points.Count > MaxCrashMarkers;
        // Wide markers while they are few; narrow ones where many stand side by side.
        double halfWidth = points.Count <= 300 ? 6 : Math.Clamp(cw / 2 + 1, 2.5, 6);
        string markerShape = $"l{Num(halfWidth)} 11h-{Num(2 * halfWidth)}z";
        for (int i = 0; i < points.Count; i++)
        {
            FailingCrashPoint point = points[i];
            int last = i;
            long failed = point.Failed, states = point.States;
            if (perColumn)
                while (last + 1 < points.Count && points[last + 1].Column == point.Column)
                {
                    last++;
                    failed += points[last].Failed;
                    states += points[last].States;
                }
            string? target = point.FirstFailureId;
            for (int j = i + 1; target is null && j <= last; j++) target = points[j].FirstFailureId;

            w.Write("<a class=\"crash-fail\" data-crash-entry=\"");
            w.Write(point.Entry);
            w.Write("\" data-crash-points=\"");
            w.Write(last - i + 1);
            w.Write("\" data-failed=\"");
            w.Write(failed);
            w.Write("\" href=\"#");
            if (target is null) w.Write("failures");
            else { w.Write("f-"); HtmlText.Write(w, target); }
            w.Write("\"><title>");
            if (last == i) { w.Write("crash after entry "); w.Write(point.Entry); }
            else { w.Write(last - i + 1); w.Write(" crash points, entries "); w.Write(point.Entry); w.Write("\u2013"); w.Write(points[last].Entry); }
            w.Write(": ");
            w.Write(failed);
            w.Write(" of ");
            w.Write(states);
            w.Write(" states failed</title><path d=\"M");
            w.Write(Num((point.Column + 0.5) * cw));
            w.Write(' ');
            w.Write(FailTop);
            w.Write(markerShape);
            w.Write("\"/></a>");
            i = last;
        }
        w.Write("</g>\n");
    }

    private static void WriteAxis(TextWriter w, TimelineColumns layout, double cw, double width)
    {
        IReadOnlyList<TimelineColumn> columns = layout.Columns;
        long first = columns[0].FirstEntry, last = columns[^1].LastEntry;
        long step = NiceStep(Math.Max(1, last - first), Math.Max(1, (int)(width / 110)));
        w.Write("<g class=\"axis\">");
        var ticks = new StringBuilder();
        long previousColumn = -1;
        for (long entry = (first + step - 1) / step * step; entry <= last; entry += step)
        {
            int column = layout.ColumnOf(entry);
            if (column == previousColumn) continue;
            previousColumn = column;
            double x = (column + 0.5) * cw;
            ticks.Append(CultureInfo.InvariantCulture, $"M{Num(x)} {AxisTop - 4}v4");
            w.Write("<text x=\"");
            w.Write(Num(Math.Min(x, width - 30)));
            w.Write("\" y=\"");
            w.Write(AxisTop + 10);
            w.Write("\">");
            w.Write(entry.ToString("N0", CultureInfo.InvariantCulture));
            w.Write("</text>");
        }
        w.Write("<path d=\"");
        w.Write(ticks);
        w.Write("\"/></g>\n");
    }

    /// <summary>1, 2 or 5 times a power of ten, so that <paramref name="span"/> holds at most <paramref name="ticks"/> steps.</summary>
    private static long NiceStep(long span, int ticks)
    {
        for (long power = 1; ; power *= 10)
            foreach (long m in (ReadOnlySpan<long>)[1, 2, 5])
                if (span / (m * power) < ticks) return m * power;
    }

    private static void WriteLegend(TextWriter w)
    {
        w.Write("<ul class=\"legend\">");
        foreach ((string cssClass, string text) in (ReadOnlySpan<(string, string)>)[
            ("bar-write", "write"), ("bar-fua", "FUA write"), ("bar-discard", "discard"), ("flush", "flush"),
            ("mark-flags", "mark"), ("band-even", "flush epoch"), ("cp", "crash point, all states passed"),
            ("cp-failed", "crash point with failed states")])
        {
            w.Write("<li><svg width=\"12\" height=\"12\"><rect class=\"");
            w.Write(cssClass);
            w.Write("\" width=\"12\" height=\"12\"/></svg>");
            w.Write(text);
            w.Write("</li>");
        }
        w.Write("</ul>\n");
    }

    /// <summary>The per-column numbers for the hover tip, as JSON whose encoder escapes &lt;, &gt; and &amp; (safe in a script element).</summary>
    private static void WriteColumnData(TextWriter w, IReadOnlyList<TimelineColumn> columns, double cw)
    {
        var buffer = new ArrayBufferWriter<byte>(columns.Count * 96);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("columnWidth", cw);
            json.WriteStartArray("fields");
            foreach (string field in (ReadOnlySpan<string>)["first", "last", "writes", "fua", "flushes", "discards", "marks",
                "firstEpoch", "lastEpoch", "crashPoints", "failingCrashPoints", "states", "failedStates",
                "bytesWritten", "bytesDiscarded", "firstOffset", "firstKind", "firstMark"])
                json.WriteStringValue(field);
            json.WriteEndArray();
            json.WriteStartArray("columns");
            foreach (TimelineColumn c in columns)
            {
                json.WriteStartArray();
                foreach (long value in (ReadOnlySpan<long>)[c.FirstEntry, c.LastEntry, c.Writes, c.FuaWrites, c.Flushes,
                    c.Discards, c.Marks, c.FirstEpoch, c.LastEpoch, c.CrashPoints, c.FailingCrashPoints, c.States,
                    c.FailedStates, c.BytesWritten, c.BytesDiscarded, c.FirstOffset])
                    json.WriteNumberValue(value);
                json.WriteStringValue(c.FirstKind.ToString());
                if (c.FirstMark is null) json.WriteNullValue();
                else json.WriteStringValue(HtmlText.Visible(c.FirstMark.Length > 80 ? string.Concat(c.FirstMark.AsSpan(0, 79), "\u2026") : c.FirstMark));
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        w.Write("<script type=\"application/json\" id=\"timeline-data\">");
        w.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        w.Write("</script>\n");
    }

    private static void WritePath(TextWriter w, string cssClass, StringBuilder d)
    {
        if (d.Length == 0) return;
        w.Write("<path class=\"");
        w.Write(cssClass);
        w.Write("\" d=\"");
        w.Write(d);
        w.Write("\"/>\n");
    }

    private static string Count(long n, string one, string many) =>
        n.ToString("N0", CultureInfo.InvariantCulture) + " " + (n == 1 ? one : many);

    private static string Num(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
