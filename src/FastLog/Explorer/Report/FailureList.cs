using System.Globalization;

namespace FastLog.Explorer.Report;

/// <summary>
/// The failure section: an index of every failure's state ID, then the first <see cref="MaxRendered"/> failures in
/// full. Size bound: the checker output shown is shared out of <see cref="OutputBudget"/> characters, details and
/// entry lists are capped, so the section stays a few MB however many failures and however long their output.
/// </summary>
internal static class FailureList
{
    public const int MaxRendered = 200;
    /// <summary>State IDs listed in the index at most (the rest are counted): about 2 MB of IDs.</summary>
    public const int MaxIndexed = 200_000;
    public const int OutputBudget = 1 << 20;
    private const int MinOutputPerFailure = 4 << 10, MaxOutputPerFailure = 256 << 10;
    private const int PreviewLines = 12, PreviewChars = 1500, MaxDetails = 50, MaxDetailChars = 1000;

    public static IReadOnlySet<string> RenderedIds(ReportData data) =>
        data.Failures.Take(MaxRendered).Select(f => f.StateId).ToHashSet(StringComparer.Ordinal);

    public static void Write(TextWriter w, ReportData data)
    {
        IReadOnlyList<ReportFailure> failures = data.Failures;
        int rendered = Math.Min(failures.Count, MaxRendered);
        w.Write("<section id=\"failures\" data-count=\"");
        w.Write(failures.Count);
        w.Write("\" data-rendered=\"");
        w.Write(rendered);
        w.Write("\">\n<h2>Failures</h2>\n");
        if (failures.Count == 0)
        {
            w.Write("<p class=\"all-passed\">No state failed.</p>\n</section>\n");
            return;
        }
        if (data.StatesFailed > failures.Count)
        {
            w.Write("<p class=\"note\">");
            w.Write(data.StatesFailed);
            w.Write(" states failed; the explorer reported ");
            w.Write(failures.Count);
            w.Write(" of them.</p>\n");
        }
        WriteIndex(w, failures, rendered);
        w.Write("<div class=\"failure-tools\"><input id=\"failure-filter\" type=\"search\" placeholder=\"Filter by state, strategy, mark, detail or checker output\" aria-label=\"filter failures\"> <span id=\"filter-count\"></span></div>\n");
        int outputCap = Math.Clamp(OutputBudget / rendered, MinOutputPerFailure, MaxOutputPerFailure);
        for (int i = 0; i < rendered; i++)
            WriteFailure(w, failures[i], outputCap);
        if (failures.Count > rendered)
            CountedNote(w, "failures-omitted", failures.Count - rendered, "",
                " more failures are not shown in full (their IDs are in the index above): the explorer's <code>--json</code> " +
                "output has all of them, and <code>fastlog materialize --state ID</code> rebuilds any.");
        w.Write("</section>\n");
    }

    /// <summary>A note saying how many things were left out, the number also in data-count for tools.</summary>
    private static void CountedNote(TextWriter w, string id, int count, string before, string afterHtml)
    {
        w.Write("<p class=\"note\" id=\"");
        w.Write(id);
        w.Write("\" data-count=\"");
        w.Write(count);
        w.Write("\">");
        w.Write(before);
        w.Write(count);
        w.Write(afterHtml);
        w.Write("</p>\n");
    }

    private static void WriteIndex(TextWriter w, IReadOnlyList<ReportFailure> failures, int rendered)
    {
        w.Write("<nav id=\"failure-index\" data-count=\"");
        w.Write(failures.Count);
        w.Write("\"><h3>All ");
        w.Write(failures.Count);
        w.Write(" failing states</h3>\n<p class=\"ids\">");
        for (int i = 0; i < rendered; i++)
        {
            w.Write("<a class=\"fid\" href=\"#f-");
            HtmlText.Write(w, failures[i].StateId);
            w.Write("\">");
            HtmlText.Write(w, failures[i].StateId);
            w.Write("</a> ");
        }
        w.Write("</p>\n");
        int listed = Math.Min(failures.Count, MaxIndexed);
        if (listed > rendered)
        {
            // Plain text, not one element each: the index of 100,000 failures stays about 1 MB.
            w.Write("<h4>not shown in full</h4><p class=\"ids unrendered-ids\" data-count=\"");
            w.Write(listed - rendered);
            w.Write("\">");
            for (int i = rendered; i < listed; i++)
            {
                if (i > rendered) w.Write(' ');
                HtmlText.Write(w, failures[i].StateId);
            }
            w.Write("</p>\n");
        }
        if (failures.Count > listed)
            CountedNote(w, "unlisted-ids", failures.Count - listed, "and ", " more (see the explorer's <code>--json</code> output).");
        w.Write("</nav>\n");
    }

    private static void WriteFailure(TextWriter w, ReportFailure f, int outputCap)
    {
        w.Write("<section class=\"failure\" id=\"f-");
        HtmlText.Write(w, f.StateId);
        w.Write("\" data-state=\"");
        HtmlText.Write(w, f.StateId);
        w.Write("\" data-crash-entry=\"");
        w.Write(f.CrashEntry);
        w.Write("\" data-strategy=\"");
        HtmlText.Write(w, f.Strategy);
        w.Write("\">\n<header><h3 class=\"state-id\">");
        HtmlText.Write(w, f.StateId);
        w.Write("</h3><span class=\"tag\">");
        HtmlText.Write(w, f.Strategy);
        w.Write("</span><span class=\"where\">crash after entry <b>");
        w.Write(f.CrashEntry);
        w.Write("</b> \u00b7 last mark ");
        if (f.LastMark is null) w.Write("<i>none</i>");
        else { w.Write("<q class=\"mark\">"); HtmlText.Write(w, f.LastMark); w.Write("</q>"); }
        w.Write(" \u00b7 checker <code class=\"checker\">");
        HtmlText.Write(w, f.Checker);
        w.Write("</code></span></header>\n<div class=\"sets\">");
        WriteSet(w, "persisted", "persisted", f.Persisted);
        WriteSet(w, "dropped", "dropped", f.Dropped);
        w.Write("<div class=\"set minimized\"><h4>minimized</h4>");
        if (f.MinimizedStateId is null)
            w.Write("<p class=\"note\">not minimized</p>");
        else
        {
            w.Write("<p><code class=\"minimized-id\">");
            HtmlText.Write(w, f.MinimizedStateId);
            w.Write("</code></p>");
            if (f.MinimizedPersisted is not null) WriteEntries(w, "persisted", "min-persisted", f.MinimizedPersisted);
            if (f.MinimizedDropped is not null) WriteEntries(w, "dropped", "min-dropped", f.MinimizedDropped);
        }
        w.Write("</div></div>\n");
        WriteDetails(w, f.Details);
        WriteOutput(w, f.CheckerOutput, outputCap);
        WriteCommand(w, "reproduce", "materialize", f.MaterializeCommand);
        string? minimized = f.MinimizedMaterializeCommand ?? MinimizedCommand(f);
        if (minimized is not null) WriteCommand(w, "minimized", "materialize-minimized", minimized);
        w.Write("</section>\n");
    }

    private static void WriteCommand(TextWriter w, string label, string cssClass, string command)
    {
        w.Write("<div class=\"repro ");
        w.Write(cssClass);
        w.Write("\"><span class=\"label\">");
        w.Write(label);
        w.Write("</span><code class=\"command\">");
        HtmlText.Write(w, command);
        w.Write("</code><button type=\"button\" class=\"copy\">copy</button></div>\n");
    }

    /// <summary>The failure's command with its <c>--state ID</c> argument naming the minimized state; null when it has none.</summary>
    private static string? MinimizedCommand(ReportFailure f)
    {
        if (f.MinimizedStateId is null) return null;
        string token = "--state " + f.StateId;
        int at = f.MaterializeCommand.IndexOf(token, StringComparison.Ordinal);
        int end = at + token.Length;
        if (at < 0 || (end < f.MaterializeCommand.Length && f.MaterializeCommand[end] != ' ')) return null;
        return string.Concat(f.MaterializeCommand.AsSpan(0, at), "--state ", f.MinimizedStateId, f.MaterializeCommand.AsSpan(end));
    }

    private static void WriteSet(TextWriter w, string title, string cssClass, IReadOnlyList<long> entries)
    {
        w.Write("<div class=\"set ");
        w.Write(cssClass);
        w.Write("\"><h4>");
        w.Write(title);
        w.Write(" <span class=\"n\">");
        w.Write(entries.Count);
        w.Write(entries.Count == 1 ? " write" : " writes");
        w.Write("</span></h4><p class=\"entries\" data-count=\"");
        w.Write(entries.Count);
        w.Write("\">");
        w.Write(EntryRanges.Format(entries));
        w.Write("</p></div>");
    }

    private static void WriteEntries(TextWriter w, string title, string cssClass, IReadOnlyList<long> entries)
    {
        w.Write("<p class=\"");
        w.Write(cssClass);
        w.Write("\" data-count=\"");
        w.Write(entries.Count);
        w.Write("\">");
        w.Write(title);
        w.Write(": <span class=\"entries\">");
        w.Write(EntryRanges.Format(entries));
        w.Write("</span></p>");
    }

    private static void WriteDetails(TextWriter w, IReadOnlyList<string> details)
    {
        if (details.Count == 0) return;
        w.Write("<ul class=\"details\">");
        foreach (string detail in details.Take(MaxDetails))
        {
            w.Write("<li>");
            HtmlText.Write(w, detail.AsSpan(0, Math.Min(detail.Length, MaxDetailChars)), markControls: true);
            if (detail.Length > MaxDetailChars) w.Write("\u2026");
            w.Write("</li>");
        }
        if (details.Count > MaxDetails)
        {
            w.Write("<li class=\"note\">\u2026 and ");
            w.Write(details.Count - MaxDetails);
            w.Write(" more</li>");
        }
        w.Write("</ul>\n");
    }

    private static void WriteOutput(TextWriter w, string output, int cap)
    {
        string text = output.Trim(); // a parser drops a newline just after <pre>: leading blank lines would not round-trip
        w.Write("<div class=\"output\"><h4>checker output</h4>");
        if (text.Length == 0)
        {
            w.Write("<p class=\"note\">(no output)</p></div>\n");
            return;
        }
        int lines = CountLines(text);
        int previewEnd = PreviewEnd(text);
        if (previewEnd == text.Length)
        {
            w.Write("<pre class=\"checker-output\">");
            HtmlText.Write(w, text, markControls: true);
            w.Write("</pre></div>\n");
            return;
        }
        w.Write("<pre class=\"output-preview\">");
        HtmlText.Write(w, text.AsSpan(0, previewEnd), markControls: true);
        w.Write("\n\u2026</pre><details><summary>all ");
        w.Write(lines.ToString("N0", CultureInfo.InvariantCulture));
        w.Write(" lines (");
        w.Write(text.Length.ToString("N0", CultureInfo.InvariantCulture));
        w.Write(" characters)</summary><pre class=\"checker-output\">");
        int shown = Math.Min(text.Length, cap);
        HtmlText.Write(w, text.AsSpan(0, shown), markControls: true);
        w.Write("</pre>");
        if (shown < text.Length)
        {
            w.Write("<p class=\"note truncated\" data-omitted=\"");
            w.Write(text.Length - shown);
            w.Write("\">");
            w.Write((text.Length - shown).ToString("N0", CultureInfo.InvariantCulture));
            w.Write(" more characters are not kept here: materialize the state and run the checker on it for all of them.</p>");
        }
        w.Write("</details></div>\n");
    }

    private static int CountLines(string text) => text.AsSpan().Count('\n') + 1;

    /// <summary>Where the preview ends: after <see cref="PreviewLines"/> lines or <see cref="PreviewChars"/> characters.</summary>
    private static int PreviewEnd(string text)
    {
        int end = 0;
        for (int line = 0; line < PreviewLines; line++)
        {
            int next = text.IndexOf('\n', end);
            if (next < 0) return text.Length <= PreviewChars ? text.Length : PreviewChars;
            end = next + 1;
            if (end > PreviewChars) return PreviewChars;
        }
        return end - 1;
    }
}
