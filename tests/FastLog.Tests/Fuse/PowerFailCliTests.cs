using System.Text.RegularExpressions;
using FastLog.Capture;
using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.Fuse;

/// <summary>
/// Power-fail injection through the real CLI on the FUSE frontend: capture --power-fail, fastlog powerfail/poweron, and
/// I/O from child processes (never from the serving process).
/// </summary>
[Collection("fuse")]
public partial class PowerFailCliTests
{
    private static readonly string Fastlog = FastlogBinary.Path;
    private const long DeviceSize = 64L << 20;

    private static string Dd(string arguments) => $"dd {arguments} status=none";

    private static string ReadBlock(string device, long block4k, bool direct) =>
        Shell.Check(Dd($"if={device} bs=4k count=1 skip={block4k}{(direct ? " iflag=direct" : "")}") + " | sha256sum").Split(' ')[0];

    private static string Sha(string file, long block4k) =>
        Shell.Check(Dd($"if={file} bs=4k count=1 skip={block4k}") + " | sha256sum").Split(' ')[0];

    private static void AssertEio(string script)
    {
        (int exit, string output) = Shell.Run(script);
        Assert.True(exit != 0, $"succeeded after the power cut: {script}\n{output}");
        Assert.Contains("Input/output error", output);
    }

    /// <summary>Writes one 4 KiB block of random data with direct I/O: one WRITE request.</summary>
    private static void WriteBlock(string device, long block4k, string extra = "") =>
        Shell.Check(Dd($"if=/dev/urandom of={device} bs=4k count=1 seek={block4k} oflag=direct {extra}"));

    [Theory]
    [InlineData("none")]
    [InlineData("all")]
    public void Keep_none_and_keep_all_leave_exactly_the_durable_and_the_full_image(string keep)
    {
        using var dir = new TempDirectory();
        string backing = dir.Sparse("backing.img", DeviceSize);
        string log = dir.File("log");
        string cut;
        using (var capture = new CaptureProcess($"--backing {backing} --log {log} --frontend fuse --power-fail manual --keep {keep}"))
        {
            string device = capture.Device;
            Shell.Check(Dd($"if=/dev/urandom of={device} bs=64k count=16 oflag=direct conv=fsync"));      // durable
            Shell.Check(Dd($"if=/dev/urandom of={device} bs=64k count=16 seek=32 oflag=direct"));          // cached
            Shell.Check(Dd($"if=/dev/urandom of={device} bs=4k count=8 seek=64 oflag=direct"));            // cached over durable
            cut = Shell.Check($"{Fastlog} powerfail {device}").Trim();
            AssertEio(Dd($"if={device} of=/dev/null bs=4k count=1 iflag=direct"));
            AssertEio(Dd($"if=/dev/zero of={device} bs=4k count=1 seek=100 oflag=direct"));
            (int again, string already) = Shell.Run($"{Fastlog} powerfail {device}");
            Assert.Equal(2, again);
            Assert.Contains("already off", already);
            Assert.Equal(0, capture.Terminate());
        }
        Match m = CutPattern().Match(cut);
        Assert.True(m.Success, cut);
        Assert.Equal(keep, m.Groups["keep"].Value);
        long cached = long.Parse(m.Groups["cached"].Value);
        Assert.Equal((1L << 20) / 512 + 32768 / 512, cached);
        Assert.Equal(keep == "all" ? cached : 0, long.Parse(m.Groups["kept"].Value));

        LogIndex index = LogIndex.Build(log);
        int powerfail = index.FindMark(PowerFailMarks.PowerFail);
        Assert.True(powerfail > 0);
        Assert.StartsWith($"{PowerFailMarks.KeepPrefix}{keep} cached={cached}", index.MarkNameAt(powerfail + 1));
        // keep=all: the replay to the cut; keep=none: the replay to the last completed flush before it.
        int lastFlush = index.Flushes.ToArray().Last(f => f < powerfail);
        string replayed = dir.Sparse("replayed.img", DeviceSize);
        Shell.Check(keep == "all"
            ? $"{Fastlog} replay --log {log} --replay {replayed} --end-mark {PowerFailMarks.PowerFail}"
            : $"{Fastlog} replay --log {log} --replay {replayed} --limit {lastFlush + 1}");
        FastlogReplay.AssertIdentical(replayed, backing);
        // And the other image really differs, so the comparison tells the two apart.
        string other = dir.Sparse("other.img", DeviceSize);
        Shell.Check(keep == "all"
            ? $"{Fastlog} replay --log {log} --replay {other} --limit {lastFlush + 1}"
            : $"{Fastlog} replay --log {log} --replay {other} --end-mark {PowerFailMarks.PowerFail}");
        Assert.NotEqual(0, Shell.Run($"cmp -s {other} {backing}").Exit);
    }

    [Fact]
    public void After_writes_cuts_at_the_right_write_and_poweron_serves_the_crash_state_not_the_page_cache()
    {
        using var dir = new TempDirectory();
        string backing = dir.Sparse("backing.img", DeviceSize);
        string log = dir.File("log");
        string durable;
        using (var capture = new CaptureProcess($"--backing {backing} --log {log} --frontend fuse --power-fail after-writes=4 --keep none"))
        {
            string device = capture.Device;
            WriteBlock(device, 0, "conv=fsync");                 // write 1, then a FLUSH: block 0 = A is durable
            durable = ReadBlock(device, 0, direct: true);
            WriteBlock(device, 0);                               // write 2: block 0 = B, cached only
            string cachedB = ReadBlock(device, 0, direct: false); // B, now also in the page cache
            Assert.NotEqual(durable, cachedB);
            WriteBlock(device, 8);                               // write 3
            WriteBlock(device, 16);                              // write 4: the power fails after it
            Assert.True(SpinWait.SpinUntil(() => capture.Stderr.Contains("power failed"), 5000), capture.Stderr);
            AssertEio(Dd($"if=/dev/urandom of={device} bs=4k count=1 seek=24 oflag=direct"));
            AssertEio(Dd($"if={device} of=/dev/null bs=4k count=1 skip=8 iflag=direct"));
            // The page cache still holds B: what poweron must not serve.
            Assert.Equal(cachedB, ReadBlock(device, 0, direct: false));
            (int status, string on) = Shell.Run($"{Fastlog} poweron {device}");
            Assert.True(status == 0, on);
            Assert.Contains("power=on", on);
            Assert.Equal(2, Shell.Run($"{Fastlog} poweron {device}").Exit);
            Assert.Equal(durable, ReadBlock(device, 0, direct: false)); // the crash state through the page cache
            Assert.Equal(Sha("/dev/zero", 0), ReadBlock(device, 8, direct: true)); // write 3 was lost
            WriteBlock(device, 32);                              // service restored
            Assert.Equal(0, capture.Terminate());
        }
        LogIndex index = LogIndex.Build(log);
        int powerfail = index.FindMark(PowerFailMarks.PowerFail);
        int writes = 0;
        for (int i = 0; i < powerfail; i++)
            if (!index[i].IsMark && index[i].NrSectors > 0) writes++;
        Assert.Equal(4, writes);
        Assert.True(index.FindMark(PowerFailMarks.PowerOn) > powerfail);
        Assert.Equal(durable, Sha(backing, 0));
    }

    [Fact]
    public void At_mark_cuts_right_after_the_mark()
    {
        using var dir = new TempDirectory();
        string backing = dir.Sparse("backing.img", DeviceSize);
        string log = dir.File("log");
        using (var capture = new CaptureProcess($"--backing {backing} --log {log} --frontend fuse --power-fail at-mark=cut-here --keep all"))
        {
            string device = capture.Device;
            WriteBlock(device, 0);
            Shell.Check($"{Fastlog} mark {device} before");
            WriteBlock(device, 1);
            Shell.Check($"{Fastlog} mark {device} cut-here");
            AssertEio(Dd($"if=/dev/urandom of={device} bs=4k count=1 seek=2 oflag=direct"));
            Assert.Equal(2, Shell.Run($"{Fastlog} powerfail {device} --keep none").Exit);
            Assert.Equal("power=off", PowerStatus(device));
            Assert.Equal(0, capture.Terminate());
        }
        LogIndex index = LogIndex.Build(log);
        int mark = index.FindMark("cut-here");
        Assert.Equal(PowerFailMarks.PowerFail, index.MarkNameAt(mark + 1));
        Assert.Equal($"{PowerFailMarks.KeepPrefix}all cached=16 kept=16", index.MarkNameAt(mark + 2));
        Assert.Equal($"{PowerFailMarks.KeptPrefix}0+16", index.MarkNameAt(mark + 3));
        Assert.True(PowerFailMarks.TryParse(index.MarkNameAt(mark + 3)!, PowerFailMarks.KeptPrefix, out var kept));
        Assert.Equal([new FastLog.Backends.BlockRange(0, 16)], kept);
    }

    [Fact]
    public void After_flushes_cuts_after_that_flush_and_after_seconds_by_itself()
    {
        using var dir = new TempDirectory();
        string backing = dir.Sparse("backing.img", DeviceSize);
        string log1 = dir.File("log1");
        // Loop itself may flush when it attaches (switching to direct I/O fsyncs the file): count in the log.
        using (var capture = new CaptureProcess($"--backing {backing} --log {log1} --frontend fuse --power-fail after-flushes=3 --keep none"))
        {
            for (int block = 0; block < 3 && PowerStatus(capture.Device) == "power=on"; block++)
                WriteBlock(capture.Device, block, "conv=fsync");
            Assert.Equal("power=off", PowerStatus(capture.Device));
            AssertEio(Dd($"if=/dev/urandom of={capture.Device} bs=4k count=1 seek=5 oflag=direct"));
            Assert.Equal(0, capture.Terminate());
        }
        LogIndex index = LogIndex.Build(log1);
        Assert.True(index.Flushes.Length >= 3);
        Assert.Equal(index.Flushes[2] + 1, index.FindMark(PowerFailMarks.PowerFail)); // right after the third FLUSH
        Assert.NotEqual(Sha("/dev/zero", 0), Sha(backing, 0)); // flushed before the cut: durable
        var started = System.Diagnostics.Stopwatch.StartNew();
        using (var capture = new CaptureProcess($"--backing {backing} --log {dir.File("log2")} --frontend fuse --power-fail after-seconds=1.5"))
        {
            Assert.True(SpinWait.SpinUntil(() => capture.Stderr.Contains("power failed"), 10_000), capture.Stderr);
            Assert.True(started.Elapsed >= TimeSpan.FromSeconds(1.5), started.Elapsed.ToString());
            AssertEio(Dd($"if={capture.Device} of=/dev/null bs=4k count=1 iflag=direct"));
            Assert.Equal(0, capture.Terminate());
        }
    }

    /// <summary>
    /// The marks describe the crash state exactly, with a random keep and a cache small enough to write back early:
    /// rebuilt from the log by <see cref="PowerFailMarks"/>' rule, it equals the backing byte for byte.
    /// </summary>
    [Fact]
    public void The_marks_rebuild_a_random_cut_with_early_write_backs_exactly()
    {
        using var dir = new TempDirectory();
        string backing = dir.Sparse("backing.img", DeviceSize);
        string log = dir.File("log");
        using (var capture = new CaptureProcess($"--backing {backing} --log {log} --frontend fuse --power-fail manual --keep random:11 --cache-size 4M"))
        {
            string device = capture.Device;
            Shell.Check(Dd($"if=/dev/urandom of={device} bs=64k count=32 oflag=direct conv=fsync"));        // 2 MiB durable
            Shell.Check(Dd($"if=/dev/urandom of={device} bs=64k count=96 seek=128 oflag=direct"));         // 6 MiB > cache
            Shell.Check(Dd($"if=/dev/urandom of={device} bs=4k count=64 seek=256 oflag=direct"));          // over the start of it
            Shell.Check(Dd($"if=/dev/urandom of={device} bs=4k count=64 seek=100 oflag=direct"));          // over durable data
            Shell.Check($"{Fastlog} powerfail {device}");
            Assert.Equal(0, capture.Terminate());
        }
        (_, List<TestLog.Entry> entries) = TestLog.ReadAll(log);
        Assert.Contains(entries, e => e.MarkName?.StartsWith(PowerFailMarks.WriteBackPrefix, StringComparison.Ordinal) == true);
        string summary = entries.First(e => e.MarkName?.StartsWith(PowerFailMarks.KeepPrefix, StringComparison.Ordinal) == true).MarkName!;
        Match m = Regex.Match(summary, @"cached=(\d+) kept=(\d+)");
        Assert.InRange(long.Parse(m.Groups[2].Value), 1, long.Parse(m.Groups[1].Value) - 1);
        byte[] expected = CrashImage(entries, (int)DeviceSize);
        Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(backing)), "the crash state differs from what the marks describe");
    }

    /// <summary>The crash state as <see cref="PowerFailMarks"/> defines it: the last completed FLUSH's image, plus FUA
    /// writes, discards and write-backs after it, plus the kept sectors, each with its data at that point of the log.</summary>
    private static byte[] CrashImage(List<TestLog.Entry> entries, int size, int sector = 512)
    {
        var full = new byte[size];
        var durable = new byte[size];
        void Copy(string markName, string prefix)
        {
            Assert.True(PowerFailMarks.TryParse(markName, prefix, out var ranges), markName);
            foreach (var r in ranges)
                full.AsSpan((int)(r.Start * sector), (int)(r.Count * sector)).CopyTo(durable.AsSpan((int)(r.Start * sector)));
        }
        bool cut = false;
        foreach (var e in entries)
        {
            LogEntryHeader h = e.Header;
            if (e.MarkName is { } name)
            {
                if (name == PowerFailMarks.PowerFail) cut = true;
                else if (name.StartsWith(PowerFailMarks.WriteBackPrefix, StringComparison.Ordinal)) Copy(name, PowerFailMarks.WriteBackPrefix);
                else if (name.StartsWith(PowerFailMarks.KeptPrefix, StringComparison.Ordinal)) Copy(name, PowerFailMarks.KeptPrefix);
                continue;
            }
            Assert.False(cut && !h.IsMark, "an entry after the cut");
            if (h.IsFlush) { full.CopyTo(durable, 0); continue; }
            var range = full.AsSpan((int)h.Sector * sector, (int)h.NrSectors * sector);
            if (h.IsDiscard) range.Clear(); else e.Payload.CopyTo(range);
            if (h.IsDiscard || (h.Flags & LogEntryFlags.Fua) != 0)
                range.CopyTo(durable.AsSpan((int)h.Sector * sector));
        }
        Assert.True(cut, "no powerfail mark");
        return durable;
    }

    [Fact]
    public void A_clean_stop_writes_the_cache_back_so_the_backing_equals_the_whole_log()
    {
        using var dir = new TempDirectory();
        string backing = dir.Sparse("backing.img", DeviceSize);
        string log = dir.File("log");
        using (var capture = new CaptureProcess($"--backing {backing} --log {log} --frontend fuse --power-fail manual"))
        {
            Shell.Check(Dd($"if=/dev/urandom of={capture.Device} bs=64k count=32 seek=7 oflag=direct")); // never flushed
            Assert.Equal("power=on", PowerStatus(capture.Device));
            Assert.Equal(0, capture.Terminate());
        }
        string replayed = dir.Sparse("replayed.img", DeviceSize);
        FastlogReplay.Apply(log, replayed);
        FastlogReplay.AssertIdentical(replayed, backing);
        Assert.NotEqual(Sha("/dev/zero", 0), Sha(backing, 7 * 16));
    }

    [Theory]
    [InlineData("--power-fail after-writes=0", "--power-fail: 'after-writes=0' is not a power-fail trigger")]
    [InlineData("--power-fail sometimes", "is not a power-fail trigger")]
    [InlineData("--power-fail manual --keep half", "--keep: 'half' is not a keep policy")]
    [InlineData("--keep all", "--keep and --cache-size need --power-fail")]
    [InlineData("--power-fail manual --cache-size 1M", "below the minimum of 4M")]
    [InlineData("--power-fail manual --cache-size lots", "'lots' is not a size")]
    public void Bad_power_fail_options_are_refused_with_a_reason(string options, string message)
    {
        (int exit, string output) = Shell.Run($"{Fastlog} capture --backing /nonexistent --log /tmp/x.log {options}");
        Assert.Equal(1, exit);
        Assert.Contains(message, output);
    }

    [Fact]
    public void Powerfail_without_a_capture_says_so_and_exits_1()
    {
        (int exit, string output) = Shell.Run($"{Fastlog} powerfail /dev/loop-nonexistent");
        Assert.Equal(1, exit);
        Assert.Contains("/dev/loop-nonexistent: no such block device", output); // marks and commands find captures by device number
    }

    private static string PowerStatus(string device) => Shell.Check($"{Fastlog} powerfail {device} --status").Trim();

    [Fact]
    public void Ext4_power_failed_after_fsyncs_recovers_with_the_fsynced_files_intact()
    {
        using var dir = new TempDirectory();
        string backing = dir.Sparse("backing.img", 128L << 20);
        string log = dir.File("log");
        string mnt = dir.File("mnt");
        Directory.CreateDirectory(mnt);
        using var capture = new CaptureProcess($"--backing {backing} --log {log} --frontend fuse --power-fail manual --keep random:7 --cache-size 32M");
        string device = capture.Device;
        Shell.Check($"mkfs.ext4 -q -F {device} && mount {device} {mnt}", 120);
        Shell.Check($"""
            set -e
            for i in 1 2 3 4 5 6; do
              dd if=/dev/urandom of={mnt}/f$i bs=64k count=$((i * 4)) conv=fsync status=none
            done
            mkdir {mnt}/d && dd if=/dev/urandom of={mnt}/d/g bs=64k count=8 conv=fsync status=none && sync -f {mnt}/d
            (cd {mnt} && sha256sum f1 f2 f3 f4 f5 f6 d/g) > {dir.File("fsynced.sha")}
            dd if=/dev/urandom of={mnt}/f2 bs=4k count=16 seek=3 conv=notrunc status=none  # unflushed overwrite
            dd if=/dev/urandom of={mnt}/unsynced bs=1M count=4 status=none
            for i in 1 2 3 4 5 6 7 8; do touch {mnt}/empty$i; done
            """, 120);
        string cut = Shell.Check($"{Fastlog} powerfail {device}");
        Assert.Matches(CutPattern(), cut);
        Shell.Run($"umount {mnt}", 60); // fails its writes; must not hang
        Assert.DoesNotContain(mnt, File.ReadAllText("/proc/self/mountinfo"));
        Shell.Check($"{Fastlog} poweron {device}");
        // f2's unflushed overwrite may or may not have survived; every other fsync'd file must be exact.
        Shell.Check($"mount {device} {mnt} && cd {mnt} && grep -v ' f2$' {dir.File("fsynced.sha")} | sha256sum -c --quiet && ls {mnt}/f2", 120);
        Shell.Check($"umount {mnt}", 60);
        Shell.Check($"e2fsck -fn {device}", 120);
        Assert.Equal(0, capture.Terminate());
    }

    [GeneratedRegex(@"^keep=(?<keep>\S+) cached=(?<cached>\d+) kept=(?<kept>\d+) block-size=512$", RegexOptions.Multiline)]
    private static partial Regex CutPattern();
}
