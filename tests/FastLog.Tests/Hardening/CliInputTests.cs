using System.Buffers.Binary;
using System.Text.Json;
using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>
/// Bad command lines are answered with what is wrong, never a stack trace: generate-log's sizes and output,
/// options that contradict each other, an abbreviation that matches several options; and an nr_entries of 2^63
/// or more is shown as the super block has it.
/// </summary>
public sealed class CliInputTests : IDisposable
{
    private static readonly string Fastlog = FastlogBinary.Path;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void AssertRefused(string arguments, string message) => Refusal.Assert($"{Fastlog} {arguments}", message);

    private string Log()
    {
        string path = _dir.File("run.log");
        using var writer = LogWriter.Create(path);
        writer.AppendMark("a");
        writer.AppendMark("b");
        return path;
    }

    [Fact]
    public void GenerateLogRefusesSizesItCannotUse()
    {
        string output = _dir.File("gen.log");
        AssertRefused($"generate-log --write-kib 0 {output}", "--write-kib 0: 1 KiB to 1 GiB");
        AssertRefused($"generate-log --sector-size 3 {output}", "--sector-size 3: a power of two from 512 to 65536");
        AssertRefused($"generate-log --sector-size 4096 --write-kib 1 {output}", "a whole number of 4096-byte sectors");
        AssertRefused($"generate-log --size-mib -1 {output}", "--size-mib -1");
        AssertRefused($"generate-log --flush-every -2 {output}", "--flush-every -2");
        AssertRefused($"generate-log {_dir.Path}", $"{_dir.Path} is a directory: give the path of the log file to create");
        AssertRefused("generate-log ''", "OUT is empty");
        Assert.Contains("2 entries", Shell.Check($"{Fastlog} generate-log --size-mib 0 {output}")); // start and end marks
        Assert.Equal(2, LogIndex.Build(output).Count);
    }

    [Fact]
    public void ContradictoryAndAmbiguousReplayOptionsAreReportedAsSuch()
    {
        string log = Log();
        AssertRefused($"replay --log {log} --start-mark a --start-entry 1", "--start-mark and --start-entry both say where to start");
        AssertRefused($"replay --log {log} --find --end-mark b --replay {_dir.File("t")}", "--find replays nothing");
        AssertRefused($"replay --log {log} --num-entries --find --end-mark b", "--num-entries only prints nr_entries");
        AssertRefused($"replay --log {log} --start 1", "option '--start' is ambiguous; possibilities: '--start-entry' '--start-mark' '--start-sector'");
        Assert.Equal("1@3", Shell.Check($"{Fastlog} replay --log {log} --find --end-m b").Trim()); // unambiguous prefixes still work
    }

    [Fact]
    public void NrEntriesFrom2To63OnIsShownAsTheSuperBlockHasIt()
    {
        string log = Log();
        const ulong huge = (1UL << 63) + 5;
        byte[] bytes = File.ReadAllBytes(log);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), huge);
        File.WriteAllBytes(log, bytes);

        Assert.Matches($@"nr_entries \(super block\)\s+{huge}\n", Shell.Run($"{Fastlog} inspect {log}").Output);
        using var json = JsonDocument.Parse(Shell.Run($"{Fastlog} inspect --json {log}").Output);
        Assert.Equal(huge, json.RootElement.GetProperty("logs")[0].GetProperty("nrEntries").GetUInt64());
        Assert.Equal($"{huge}\n", Shell.Check($"{Fastlog} replay --log {log} --num-entries"));
        Assert.Contains($"entries={huge}", Shell.Check($"{Fastlog} replay --log {log}"));
    }
}
