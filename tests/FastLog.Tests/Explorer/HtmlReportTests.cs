using System.Diagnostics;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using FastLog.Explorer.Report;
using FastLog.Tests.Support;

namespace FastLog.Tests.Explorer;

/// <summary>
/// The explorer's HTML report, opened in headless Chromium: what a reader's browser builds from the file (after its
/// script ran) is what is checked, not the bytes we meant to write.
/// </summary>
public sealed class HtmlReportTests : IDisposable
{
    private const string HostileMark = "<script>alert(1)</script>";
    private const string HostileOutput =
        "\u001b[31mERROR\u001b[0m: bad inode </pre><script>alert(2)</script><img src=x onerror=alert(3)>\r\n" +
        "& \"quoted\" 'single' </details></section>\u0007\r50%\r100%\n<!-- not a comment -->";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ChromiumRendersTheTimelineTheFailuresAndTheCountsAndNoHostileMarkup()
    {
        ReportData data = Realistic();
        string path = HtmlReport.Write(data, _dir.File("report"));

        Assert.Equal(Path.Combine(_dir.File("report"), "report.html"), path);
        Assert.Equal(new[] { "report.html" }, Directory.GetFileSystemEntries(_dir.File("report")).Select(Path.GetFileName));
        string raw = File.ReadAllText(path);
        Assert.DoesNotContain('\u001b', raw);
        Assert.DoesNotContain('\u0007', raw);
        new HtmlParser(new HtmlParserOptions { IsStrictMode = true }).ParseDocument(raw); // throws at any HTML parse error

        IDocument dom = RenderedDom(path, out _);
        Assert.Equal("ready", dom.DocumentElement.GetAttribute("data-script")); // the page script ran to its end

        // Header counts.
        Assert.Equal(data.StatesPlanned, HeaderCount(dom, "states-planned"));
        Assert.Equal(data.StatesChecked, HeaderCount(dom, "states-checked"));
        Assert.Equal(data.StatesMerged, HeaderCount(dom, "states-merged"));
        Assert.Equal(data.StatesFailed, HeaderCount(dom, "states-failed"));
        Assert.Equal(data.EntryCount, HeaderCount(dom, "entries"));
        Assert.Equal(data.EpochCount, HeaderCount(dom, "epochs"));
        Assert.Equal(data.DeviceSize, HeaderCount(dom, "device-size"));
        Assert.Equal(data.CrashPoints.Count, HeaderCount(dom, "crash-points"));
        Assert.Equal(2, HeaderCount(dom, "failing-crash-points"));
        Assert.Equal(data.CommandLine, dom.GetElementById("command-line")!.TextContent);

        // The timeline: one column per entry at this size, marks and flushes drawn, two failing crash points.
        IElement timeline = dom.QuerySelector("section#timeline")!;
        Assert.Equal(data.Timeline.Count.ToString(), timeline.GetAttribute("data-columns"));
        Assert.NotNull(timeline.QuerySelector("svg path.flush"));
        Assert.NotNull(timeline.QuerySelector("svg path.mark-flags"));
        Assert.NotNull(timeline.QuerySelector("svg path.band-odd"));
        Assert.Equal(new[] { FirstCrash, SecondCrash },
            timeline.QuerySelectorAll("[data-crash-entry]").Select(e => long.Parse(e.GetAttribute("data-crash-entry")!)));
        Assert.Equal("#f-e120-T7", timeline.QuerySelector($"[data-crash-entry=\"{FirstCrash}\"]")!.GetAttribute("href"));
        Assert.Contains(timeline.QuerySelectorAll(".mark-labels text"), t => t.TextContent.StartsWith("<script>alert(1)", StringComparison.Ordinal));

        // The failure list: every failure in full, in order, and in the index.
        string[] ids = data.Failures.Select(f => f.StateId).ToArray();
        Assert.Equal(ids, dom.QuerySelectorAll("section.failure").Select(s => s.GetAttribute("data-state")));
        Assert.Equal(ids, dom.QuerySelectorAll("#failure-index a.fid").Select(a => a.TextContent));
        Assert.Null(dom.GetElementById("failures-omitted"));

        IElement hostile = dom.QuerySelector("section.failure[data-state=\"e120-T7\"]")!;
        Assert.Equal(HostileMark, hostile.QuerySelector("q.mark")!.TextContent);
        string shownOutput = hostile.QuerySelector("pre.checker-output")!.TextContent;
        Assert.Equal(HtmlText.Visible(HostileOutput.Trim()), shownOutput);
        Assert.Contains("\\x1b[31mERROR\\x1b[0m", shownOutput); // the terminal escape is shown, not obeyed
        Assert.Equal(new[] { "\\x1b", "\\x1b", "\\x07", "\\r", "\\r" }, hostile.QuerySelectorAll("pre.checker-output span.ctl").Select(e => e.TextContent));
        Assert.Contains("entry 118 torn: units 0,1 of 8 persisted", hostile.QuerySelector("ul.details")!.TextContent);
        Assert.Equal("fastlog materialize --log /var/tmp/ext4.log --state e120-T7 -o e120-T7.img",
            hostile.QuerySelector(".repro.materialize code")!.TextContent);
        Assert.Null(hostile.QuerySelector(".repro.materialize-minimized")); // not minimized: nothing to run

        IElement first = dom.QuerySelector("section.failure[data-state=\"e120-S3\"]")!;
        Assert.Equal("101, 103\u2013105, 110", first.QuerySelector(".set.persisted .entries")!.TextContent);
        Assert.Equal("5", first.QuerySelector(".set.dropped .entries")!.GetAttribute("data-count"));
        Assert.Equal("e120-S3-min", first.QuerySelector(".minimized-id")!.TextContent);
        Assert.Equal("persisted: 110", first.QuerySelector(".min-persisted")!.TextContent);
        Assert.Equal("fastlog materialize --log /var/tmp/ext4.log --state e120-S3-min -o e120-S3.img",
            first.QuerySelector(".repro.materialize-minimized code")!.TextContent);
        Assert.NotNull(first.QuerySelector("details pre.checker-output")); // long output: a preview, all of it folded
        Assert.Equal(HtmlText.Visible(data.Failures[1].CheckerOutput.Trim()), first.QuerySelector("pre.checker-output")!.TextContent);

        // Nothing injected: only the report's own two scripts, no element or handler from the hostile strings.
        Assert.Equal(2, dom.QuerySelectorAll("script").Length);
        Assert.Empty(dom.QuerySelectorAll("img, iframe, object, embed, link, base"));
        Assert.DoesNotContain(dom.All, e => e.Attributes.Any(a => a.Name.StartsWith("on", StringComparison.Ordinal)));
        // Self-contained: no address the page could fetch.
        Assert.All(dom.QuerySelectorAll("[href]"), e => Assert.StartsWith("#", e.GetAttribute("href")));
        Assert.Empty(dom.QuerySelectorAll("[src]"));
    }

    [Fact]
    public void AMillionEntryLogGivesAFewMegabytesThatChromiumRendersQuickly()
    {
        const int entries = 1_000_000, flushEvery = 50, failingPoints = 3000, failures = 500;
        var timeline = new List<TimelineEntry>(entries);
        var crashPoints = new List<CrashPointResult>();
        for (int i = 0; i < entries; i++)
        {
            int epoch = i / flushEvery;
            if (i % flushEvery == flushEvery - 1)
            {
                timeline.Add(new TimelineEntry(i, TimelineKind.Flush, 0, 0, epoch, null));
                crashPoints.Add(new CrashPointResult(i, 8, crashPoints.Count < failingPoints ? 1 : 0));
            }
            else if (i % 997 == 0)
                timeline.Add(new TimelineEntry(i, TimelineKind.Mark, 0, 0, epoch, $"mark {i} <b>"));
            else
                timeline.Add(new TimelineEntry(i, i % 7 == 0 ? TimelineKind.FuaWrite : TimelineKind.Write, (i % 4096) * 4096L, 4096, epoch, null));
        }
        string longOutput = string.Concat(Enumerable.Repeat("Inode 1234 has an invalid extent (logical block 0, physical block 5678)\n", 300));
        var failureList = Enumerable.Range(0, failures).Select(i => new ReportFailure(
            $"e{i * 50 + 49}-S{i}", i * 50 + 49, $"mark {i}", "subsets", [.. Enumerable.Range(i * 50 + 1, 40).Select(e => (long)e)],
            [i * 50 + 45L], [$"entry {i * 50 + 45} dropped"], "fs", longOutput, null, null, null,
            $"fastlog materialize --log big.log --state e{i * 50 + 49}-S{i} -o state.img")).ToList();
        var data = new ReportData("/var/tmp/big.log", 4096, 4L << 30, entries, entries / flushEvery,
            "fastlog explore --log big.log --check fs --points all", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(42),
            160_000, 160_000, 1_200, failingPoints, timeline, crashPoints, failureList);

        var written = Stopwatch.StartNew();
        string path = HtmlReport.Write(data, _dir.Path);
        written.Stop();
        long size = new FileInfo(path).Length;
        Assert.True(size < 3 << 20, $"the report is {size:N0} bytes");
        Assert.True(written.Elapsed < TimeSpan.FromSeconds(10), $"writing took {written.Elapsed}");

        IDocument dom = RenderedDom(path, out TimeSpan rendering);
        Assert.True(rendering < TimeSpan.FromSeconds(30), $"Chromium took {rendering} to render it");
        Assert.Equal("ready", dom.DocumentElement.GetAttribute("data-script"));
        IElement timelineSection = dom.QuerySelector("section#timeline")!;
        Assert.Equal(TimelineColumns.MaxColumns.ToString(), timelineSection.GetAttribute("data-columns"));
        IElement[] markers = [.. timelineSection.QuerySelectorAll("[data-crash-entry]")];
        Assert.InRange(markers.Length, 1, TimelineSvg.MaxCrashMarkers);
        Assert.Equal(failingPoints, markers.Sum(m => int.Parse(m.GetAttribute("data-crash-points")!)));
        Assert.Equal(failingPoints, HeaderCount(dom, "failing-crash-points"));

        Assert.Equal(FailureList.MaxRendered, dom.QuerySelectorAll("section.failure").Length);
        Assert.Equal((failures - FailureList.MaxRendered).ToString(), dom.GetElementById("failures-omitted")!.GetAttribute("data-count"));
        string[] listed = [.. dom.QuerySelectorAll("#failure-index a.fid").Select(a => a.TextContent),
            .. dom.QuerySelector("#failure-index .unrendered-ids")!.TextContent.Split(' ')];
        Assert.Equal(failureList.Select(f => f.StateId), listed);
        Assert.NotNull(dom.QuerySelector("section.failure p.truncated")); // 22 KB of output each: over its share
    }

    [Fact]
    public void ATimelineOutOfOrderIsRefusedAndTheOldReportStays()
    {
        ReportData data = Realistic();
        string path = HtmlReport.Write(data, _dir.Path);
        byte[] before = File.ReadAllBytes(path);
        var shuffled = data with { Timeline = [.. data.Timeline.Take(5).Reverse()] };

        var error = Assert.Throws<ArgumentException>(() => HtmlReport.Write(shuffled, _dir.Path));
        Assert.Contains("ascending entry order", error.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "report.html" }, Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AnEmptyLogWithNothingFailedSaysSo()
    {
        var data = new ReportData("/var/tmp/empty <log>.log", 512, 1 << 20, 0, 0, "fastlog explore --log empty.log --check true",
            DateTimeOffset.UnixEpoch, TimeSpan.Zero, 0, 0, 0, 0, [], [], []);
        IDocument dom = RenderedDom(HtmlReport.Write(data, _dir.Path), out _);

        Assert.Equal("ready", dom.DocumentElement.GetAttribute("data-script"));
        Assert.Equal("/var/tmp/empty <log>.log", dom.GetElementById("log-path")!.TextContent);
        Assert.Equal("No state was checked", dom.QuerySelector(".verdict.none")!.TextContent);
        Assert.Equal("0", dom.QuerySelector("section#timeline")!.GetAttribute("data-columns"));
        Assert.Null(dom.GetElementById("timeline-svg"));
        Assert.Equal("0", dom.GetElementById("failures")!.GetAttribute("data-count"));
        Assert.Empty(dom.QuerySelectorAll("section.failure, [data-crash-entry]"));
    }

    [Fact]
    public void EntryListsAreWrittenAsRangesAndCapped()
    {
        Assert.Equal("none", EntryRanges.Format([]));
        Assert.Equal("3, 7\u20139, 12, 13", EntryRanges.Format([13, 3, 8, 7, 9, 12, 8]));
        Assert.Equal("0, 2, 4 \u2026 and 2 more", EntryRanges.Format([0, 2, 4, 6, 8], maxRanges: 3));
    }

    [Fact]
    public void ControlCharactersAndBrokenSurrogatesBecomeVisibleCharacters()
    {
        using var writer = new StringWriter();
        HtmlText.Write(writer, "a\u001b[0m\u0000\u007f\u0085\ud800x\udc00\r\n\U0001F600<&>\"'");
        Assert.Equal("a\\x1b[0m\\x00\\x7f\\u0085\ufffdx\ufffd\n\U0001F600&lt;&amp;&gt;&quot;&#39;", writer.ToString());
    }

    private const long FirstCrash = 120, SecondCrash = 241;

    /// <summary>An ext4-like log of about 300 entries: epochs of 4 to 12 writes, journal commits as FUA writes, discards, marks, flushes.</summary>
    private static ReportData Realistic()
    {
        var random = new Random(12);
        var timeline = new List<TimelineEntry>();
        var crashPoints = new List<CrashPointResult>();
        int epoch = 0, step = 0;
        bool hostilePlaced = false;
        while (timeline.Count < 300)
        {
            int writes = random.Next(4, 13);
            for (int w = 0; w < writes; w++)
                Add(TimelineKind.Write, random.Next(0, 16384) * 4096L, 4096L << random.Next(0, 5), null);
            if (random.Next(3) == 0) Add(TimelineKind.Discard, random.Next(0, 16384) * 4096L, 1 << 20, null);
            Add(TimelineKind.FuaWrite, 1024 * 4096L, 4096, null);
            crashPoints.Add(new CrashPointResult(timeline.Count - 1, random.Next(2, 40), 0));
            if (epoch % 3 == 2)
            {
                bool hostile = !hostilePlaced && timeline.Count > 100;
                hostilePlaced |= hostile;
                Add(TimelineKind.Mark, 0, 0, hostile ? HostileMark : $"step-{++step}");
                crashPoints.Add(new CrashPointResult(timeline.Count - 1, random.Next(2, 40), 0));
            }
            Add(TimelineKind.Flush, 0, 0, null);
            crashPoints.Add(new CrashPointResult(timeline.Count - 1, random.Next(2, 40), 0));
            epoch++;
        }
        crashPoints.Add(new CrashPointResult(FirstCrash, 64, 2));
        crashPoints.Add(new CrashPointResult(SecondCrash, 32, 1));
        crashPoints = [.. crashPoints.DistinctBy(p => p.Entry).OrderBy(p => p.Entry)];

        string fsck = string.Join('\n', ["e2fsck 1.47.0 (5-Feb-2023)", "Pass 1: Checking inodes, blocks, and sizes",
            .. Enumerable.Range(0, 30).Select(i => $"Inode {12 + i} ref count is 2, should be 1.  Fix? no"),
            "Pass 5: Checking group summary information", "Block bitmap differences:  -(1234--1240)",
            "/dev/loop0: ********** WARNING: Filesystem still has errors **********"]);
        ReportFailure[] failures =
        [
            new("e120-T7", FirstCrash, HostileMark, "torn", [101, 103, 118], [104, 105, 110],
                ["entry 118 torn: units 0,1 of 8 persisted"], "fs", HostileOutput, null, null, null,
                "fastlog materialize --log /var/tmp/ext4.log --state e120-T7 -o e120-T7.img"),
            new("e120-S3", FirstCrash, HostileMark, "subsets", [101, 103, 104, 105, 110], [102, 106, 107, 108, 109],
                ["entry 110 persisted without entries 106\u2013109 it follows"], "fs", fsck, "e120-S3-min", [110], [106, 107, 108, 109],
                "fastlog materialize --log /var/tmp/ext4.log --state e120-S3 -o e120-S3.img"),
            new("e241-V2", SecondCrash, "step-13", "versions", [230, 236], [233],
                ["block 1024 holds the version of entry 231", "entry 236 reads back as zeros"], "oracle",
                "file /d/f7: expected 4096 bytes of version 3, found version 2\n", "e241-V2-min", [236], [],
                "fastlog materialize --log /var/tmp/ext4.log --state e241-V2 -o e241-V2.img"),
        ];
        return new ReportData("/var/tmp/ext4.log", 4096, 64L << 20, timeline.Count, epoch,
            "fastlog explore --log /var/tmp/ext4.log --check fs --strategy prefix,subsets,torn,versions --report out",
            new DateTimeOffset(2026, 12, 4, 3, 30, 0, TimeSpan.Zero), TimeSpan.FromSeconds(83.4),
            2400, 2310, 90, failures.Length, timeline, crashPoints, failures);

        void Add(TimelineKind kind, long offset, long length, string? mark) =>
            timeline.Add(new TimelineEntry(timeline.Count, kind, offset, length, epoch, mark));
    }

    private static long HeaderCount(IDocument dom, string stat) =>
        long.Parse(dom.QuerySelector($"#summary [data-stat=\"{stat}\"]")!.GetAttribute("data-count")!);

    /// <summary>The DOM headless Chromium built from the file, after the page's scripts ran (--dump-dom).</summary>
    private IDocument RenderedDom(string path, out TimeSpan elapsed) => RenderedDom(path, _dir.Path, out elapsed);

    /// <summary>The same, with Chromium's throwaway profile under <paramref name="scratch"/>.</summary>
    internal static IDocument RenderedDom(string path, string scratch, out TimeSpan elapsed)
    {
        string profile = Directory.CreateDirectory(Path.Combine(scratch, $"chromium-profile-{Guid.NewGuid():N}")).FullName;
        var info = new ProcessStartInfo("chromium")
        {
            ArgumentList = { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", $"--user-data-dir={profile}",
                "--dump-dom", new Uri(path).AbsoluteUri },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var clock = Stopwatch.StartNew();
        Process process;
        try { process = Process.Start(info)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("chromium is not installed (Debian's chromium package; scripts/setup installs it)", e);
        }
        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not render {path} in 90 s");
            }
            elapsed = clock.Elapsed;
            Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {stderr.Result}");
            string html = stdout.Result;
            Assert.True(html.Contains("</html>", StringComparison.Ordinal), $"chromium printed no DOM: {stderr.Result}");
            return new HtmlParser().ParseDocument(html);
        }
    }
}
