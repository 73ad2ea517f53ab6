using System.CommandLine;
using FastLog.LogFormat;

namespace FastLog.Cli.Commands;

/// <summary>
/// Hidden developer command: writes a synthetic log with <see cref="LogWriter"/> for benchmarks
/// (perf/replay-vs-fio.sh). Payload bytes are pseudo-random so no layer can cheat by compressing zeros.
/// </summary>
internal static class GenerateLogCommand
{
    private static readonly Argument<string> Output = new("OUT") { Description = "Log file to create." };
    private static readonly Option<long> SizeMiB = new("--size-mib") { Description = "Payload MiB to log.", DefaultValueFactory = _ => 1024 };
    private static readonly Option<int> WriteKiB = new("--write-kib") { Description = "KiB per write entry.", DefaultValueFactory = _ => 128 };
    private static readonly Option<int> SectorSize = new("--sector-size") { Description = "Log sector size.", DefaultValueFactory = _ => 512 };
    private static readonly Option<long> DeviceMiB = new("--device-mib") { Description = "Writes land at random aligned offsets of a device this large (0: one after another), and the log records its size as capture does.", DefaultValueFactory = _ => 0 };
    private static readonly Option<int> FlushEvery = new("--flush-every") { Description = "A FLUSH entry and a FUA write after this many writes (0: never).", DefaultValueFactory = _ => 256 };

    public static Command Create()
    {
        var command = new Command("generate-log", "Developer tool: write a synthetic sequential-write log for benchmarks.") { Hidden = true };
        command.Arguments.Add(Output);
        foreach (Option option in (Option[])[SizeMiB, WriteKiB, SectorSize, FlushEvery, DeviceMiB])
            command.Options.Add(option);
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        int sectorSize = parse.GetValue(SectorSize);
        long writeBytes = parse.GetValue(WriteKiB) * 1024L;
        long sizeMiB = parse.GetValue(SizeMiB);
        int flushEvery = parse.GetValue(FlushEvery);
        string output = parse.GetValue(Output)!;
        string? problem =
            sectorSize < 0 || !LogSuperBlock.IsValidSectorSize((uint)sectorSize) ? $"--sector-size {sectorSize}: a power of two from 512 to 65536"
            : writeBytes <= 0 || writeBytes > 1L << 30 || writeBytes % sectorSize != 0 ? $"--write-kib {parse.GetValue(WriteKiB)}: 1 KiB to 1 GiB, a whole number of {sectorSize}-byte sectors"
            : sizeMiB < 0 || sizeMiB > 1L << 40 ? $"--size-mib {sizeMiB}: 0 to 2^40"
            : flushEvery < 0 ? $"--flush-every {flushEvery}: 0 (never) or more"
            : string.IsNullOrEmpty(output) ? "OUT is empty: give the path of the log to create"
            : null;
        if (problem is not null)
            return Fail(problem);
        long writes = sizeMiB * (1L << 20) / writeBytes;
        byte[] payload = new byte[writeBytes];
        new Random(42).NextBytes(payload);
        LogWriter writer;
        try
        {
            writer = LogWriter.Create(output, sectorSize, new LogWriterOptions { UpdateSuperOnFuaAndMark = false });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(Directory.Exists(output) ? $"{output} is a directory: give the path of the log file to create" : $"{output}: {e.Message}");
        }
        using (writer)
        {
            long deviceBytes = parse.GetValue(DeviceMiB) << 20;
            var place = new Random(7);
            if (deviceBytes > 0)
                writer.AppendMark(FastLog.Capture.CaptureLog.SizeMarkPrefix + deviceBytes);
            writer.AppendMark("start");
            ulong sector = 0;
            for (long i = 1; i <= writes; i++)
            {
                payload[0] = (byte)i; // every write differs
                bool commit = flushEvery > 0 && i % flushEvery == 0;
                if (commit)
                    writer.AppendFlush();
                if (deviceBytes > 0)
                    sector = (ulong)(place.NextInt64(deviceBytes / writeBytes) * writeBytes / sectorSize);
                writer.AppendWrite(sector, payload, commit ? LogEntryFlags.Fua : LogEntryFlags.None);
                sector += (ulong)(writeBytes / sectorSize);
            }
            writer.Close();
            Console.WriteLine($"{writer.EntryCount} entries, {writer.Length} bytes");
        }
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"fastlog generate-log: {message}");
        return 1;
    }
}
