using System.Text.Json;
using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>
/// Sizes and offsets from a log are checked before use: a sector whose byte offset does not fit in 63 bits, a
/// discard far larger than the target, totals past 2^64. Each violation names the entry and its byte offset and
/// nothing is written; the target never grows from a discard.
/// </summary>
[Collection("loop")]
public sealed class UntrustedNumberTests : IDisposable
{
    private const int TargetSize = 64 << 10;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Save(LogBytes log)
    {
        string path = _dir.File("hostile.log");
        File.WriteAllBytes(path, log.ToArray());
        return path;
    }

    private string Target()
    {
        string path = _dir.File("target.img");
        File.WriteAllBytes(path, Enumerable.Repeat((byte)0xEE, TargetSize).ToArray());
        return path;
    }

    [Theory]
    [InlineData(1UL << 62)]            // x 512 wraps to byte 0
    [InlineData(1UL << 63)]            // a negative byte offset
    [InlineData(ulong.MaxValue - 1)]   // both
    public void AWriteAtASectorWhoseByteOffsetOverflowsIsDamageNamingTheEntry(ulong sector)
    {
        string log = Save(new LogBytes(512).Write(0, LogBytes.Pattern(512, 1)).Write(sector, LogBytes.Pattern(512, 2)));
        string target = Target();

        (int code, _, string err) = HostileReplay.Run(log, target);

        Assert.Equal(1, code);
        Assert.Contains($"{log}: entry 1 at byte offset 1536: absurd nr_sectors 1 at sector {sector}: with 512-byte sectors the range passes byte 2^63", err);
        byte[] image = File.ReadAllBytes(target);
        Assert.Equal(TargetSize, image.Length);
        Assert.Equal(LogBytes.Pattern(512, 1), image[..512]); // entry 0 replayed, nothing landed at byte 0 from entry 1
        Assert.All(image[512..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void AHugeDiscardDoesNotGrowARegularFileTarget()
    {
        string log = Save(new LogBytes(512).Write(0, LogBytes.Pattern(4096, 1)).Entry(8, 1UL << 50, (ulong)LogEntryFlags.Discard));
        string target = Target();
        var watch = System.Diagnostics.Stopwatch.StartNew();

        (int code, _, string err) = HostileReplay.Run(log, target);

        Assert.True(code == 0, err);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the discard took {watch.Elapsed}");
        Assert.Equal(TargetSize, new FileInfo(target).Length);
        byte[] image = File.ReadAllBytes(target);
        Assert.Equal(LogBytes.Pattern(4096, 1), image[..4096]);
        Assert.All(image[4096..], b => Assert.Equal(0, b)); // the part inside the file is discarded
    }

    [Fact]
    public void WritesAndDiscardsPastTheEndOfABlockDeviceAreDamageNamingTheEntry()
    {
        using var disk = new LoopImage(1 << 20);
        string discard = Save(new LogBytes(512).Write(0, LogBytes.Pattern(512, 1)).Entry(8, 1UL << 50, (ulong)LogEntryFlags.Discard));
        (int code, _, string err) = HostileReplay.Run(discard, disk.Device);
        Assert.Equal(1, code);
        Assert.Contains($"{discard}: entry 1 at byte offset 1536: discard of bytes 4096..", err);
        Assert.Contains($"reaches past the end of {disk.Device} (1048576 bytes)", err);

        string write = Save(new LogBytes(512).Write(2047, LogBytes.Pattern(1024, 3)));
        (code, _, err) = HostileReplay.Run(write, disk.Device);
        Assert.Equal(1, code);
        Assert.Contains($"{write}: entry 0 at byte offset 512: write of bytes 1048064..1049088 reaches past the end", err);
        byte[] image = File.ReadAllBytes(disk.ImagePath);
        Assert.Equal(LogBytes.Pattern(512, 1), image[..512]); // the first log's entry 0, before the damage
        Assert.All(image[512..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void DiscardedBytesBeyond2To64AreCountedExactlyInTextAndJson()
    {
        const ulong sectors = (1UL << 54) - 1; // the largest range a 512-byte-sector entry may name
        var bytes = new LogBytes(512);
        for (int i = 0; i < 4; i++)
            bytes.Entry(0, sectors, (ulong)LogEntryFlags.Discard);
        string log = Save(bytes);
        UInt128 expected = 4 * (UInt128)sectors * 512;

        Assert.Equal(expected, LogStatistics.Of(LogIndex.Build(log)).BytesDiscarded);
        string json = Shell.Check($"{FastlogBinary.Path} inspect --json {log}");
        using var document = JsonDocument.Parse(json);
        Assert.Equal(expected.ToString(), document.RootElement.GetProperty("logs")[0].GetProperty("bytesDiscarded").GetRawText());
        string text = Shell.Check($"{FastlogBinary.Path} inspect {log}");
        Assert.Matches(@"bytes discarded\s+34359738368 GiB", text); // about 2^65 bytes = 2^35 GiB
    }
}
