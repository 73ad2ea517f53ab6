using FastLog.Tests.Support;
using FastLog.Workload;

namespace FastLog.Tests.Workload;

/// <summary>
/// The oracle's report on files damaged on purpose in known ways: it names the file, the offset, the versions
/// that were allowed (worked out independently from the journal by <see cref="StressFacts"/>) and what it found.
/// The files are on tmpfs and the journal on the root file system (stress refuses one file system for both).
/// </summary>
public class OracleReportTests
{
    private const long FileSize = 256 << 10;

    private sealed class Run : IDisposable
    {
        public readonly TempDirectory JournalDir = new();
        public readonly string DataDir = Directory.CreateDirectory($"/dev/shm/fastlog-stress-{Guid.NewGuid():N}").FullName;

        public Run()
        {
            Result = StressRunner.Run(new StressOptions
            {
                Directory = DataDir, JournalPath = Journal, Files = 2, FileSize = FileSize, WriteMin = 512, WriteMax = 16384,
                FsyncRatio = 0.3, Ops = 400, Seed = 5,
            }, TextWriter.Null);
            Records = StressFacts.Records(Journal);
        }

        public string Journal => JournalDir.File("journal");
        public StressResult Result { get; }
        public StressJournalRecord[] Records { get; }
        public string FilePath(int file) => Path.Combine(DataDir, StressJournalHeader.FileName(file));

        public void Overwrite(int file, long offset, ReadOnlySpan<byte> unit)
        {
            using var stream = new FileStream(FilePath(file), FileMode.Open, FileAccess.Write);
            stream.Position = offset;
            stream.Write(unit);
        }

        public void Dispose()
        {
            JournalDir.Dispose();
            Directory.Delete(DataDir, recursive: true);
        }
    }

    [Fact]
    public void Verify_names_file_offset_allowed_versions_and_what_it_found()
    {
        using var run = new Run();
        Assert.Null(run.Result.Failure);
        Assert.True(run.Result.Promises > 20, $"{run.Result.Promises} promises");
        Assert.True(OracleVerifier.Verify(run.DataDir, run.Journal).Passed);

        // Judge at a promise halfway, so later writes exist: a unit whose promised version was itself
        // overwritten before the promise (so there is an older version to plant) and written again after it.
        long k = run.Result.Promises / 2;
        StressJournalRecord promise = StressFacts.Promise(run.Records, k);
        int file = promise.File;
        long covered = promise.CoveredWrite;
        long target = Enumerable.Range(0, (int)(FileSize / 512)).Select(u => u * 512L).First(o =>
            StressFacts.WritesAfter(run.Records, file, o, covered).Length > 0
            && StressFacts.VersionAt(run.Records, file, o, covered) is var v and > 0
            && StressFacts.VersionAt(run.Records, file, o, v - 1) > 0);
        long promised = StressFacts.VersionAt(run.Records, file, target, covered);
        long older = StressFacts.VersionAt(run.Records, file, target, promised - 1);
        long[] later = StressFacts.WritesAfter(run.Records, file, target, covered);

        run.Overwrite(file, target, new byte[512]);
        OracleReport report = OracleVerifier.Verify(run.DataDir, run.Journal, k);
        OracleMismatch zeros = Assert.Single(report.Mismatches);
        Assert.Equal((StressJournalHeader.FileName(file), target, 512L, promised, FoundKind.Zeros),
            (zeros.File, zeros.Offset, zeros.Length, zeros.PromisedVersion, zeros.Found));
        Assert.Equal(later.Take(OracleVerifier.MaxLaterVersions), zeros.LaterVersions);
        Assert.Equal(k, report.PromiseInForce);

        // The CLI says the same, and exits 1.
        string cli = $"{FastlogBinary.Path} verify --dir {run.DataDir} --journal {run.Journal} --up-to-promise {k}";
        (int exit, string text) = Shell.Run(cli);
        Assert.Equal(1, exit);
        Assert.Contains($"MISMATCH {StressJournalHeader.FileName(file)} offset {target} length 512: allowed version {promised} or a later write: {later[0]}", text);
        Assert.Contains("found zeros", text);
        (exit, string json) = Shell.Run(cli + " --json");
        Assert.Equal(1, exit);
        Assert.Contains($"\"offset\": {target},", json);
        Assert.Contains($"\"promisedVersion\": {promised},", json);

        // An older version of the same place, then bytes that are nobody's.
        var unit = new byte[512];
        StressContent.Fill(unit, 5, file, target, older);
        run.Overwrite(file, target, unit);
        StressJournal opened = StressJournal.Open(run.Journal); // as the explorer keeps it, for many crash states
        OracleMismatch stale = Assert.Single(OracleVerifier.Verify(run.DataDir, opened, k).Mismatches);
        Assert.Equal((FoundKind.WrongVersion, older), (stale.Found, stale.FoundVersion));
        Assert.Contains($"found version {older}", stale.ToString());
        unit[100] ^= 1;
        run.Overwrite(file, target, unit);
        Assert.Equal(FoundKind.Torn, Assert.Single(OracleVerifier.Verify(run.DataDir, run.Journal, k).Mismatches).Found);
        Random.Shared.NextBytes(unit);
        run.Overwrite(file, target, unit);
        Assert.Equal(FoundKind.Garbage, Assert.Single(OracleVerifier.Verify(run.DataDir, run.Journal, k).Mismatches).Found);

        StressContent.Fill(unit, 5, file, target, run.Result.Writes + 1);
        run.Overwrite(file, target, unit);
        Assert.Equal(FoundKind.NotInJournal, Assert.Single(OracleVerifier.Verify(run.DataDir, run.Journal, k).Mismatches).Found);

        // A later version is allowed: putting the last write back makes the file pass again.
        StressContent.Fill(unit, 5, file, target, later[^1]);
        run.Overwrite(file, target, unit);
        Assert.True(OracleVerifier.Verify(run.DataDir, run.Journal, k).Passed);
    }

    [Fact]
    public void A_file_cut_short_breaks_its_promise_but_not_past_the_promised_size()
    {
        using var run = new Run();
        long k = run.Result.Promises;
        StressJournalRecord last = StressFacts.Promise(run.Records, k);
        long promisedSize = run.Records.Where(r => r.Kind == StressRecordKind.Write && r.File == last.File && r.Sequence <= last.CoveredWrite)
            .Max(r => r.Offset + r.Length);
        OracleFileReport before = OracleVerifier.Verify(run.DataDir, run.Journal).Files[last.File];
        Assert.Equal(promisedSize, before.PromisedSize);
        // Writes after the promise may have grown the file; cutting back to the promised size is allowed.
        using (var stream = new FileStream(run.FilePath(last.File), FileMode.Open))
            stream.SetLength(promisedSize);
        Assert.True(OracleVerifier.Verify(run.DataDir, run.Journal).Passed);
        using (var stream = new FileStream(run.FilePath(last.File), FileMode.Open))
            stream.SetLength(promisedSize - 1000);
        OracleReport report = OracleVerifier.Verify(run.DataDir, run.Journal);
        Assert.False(report.Passed);
        Assert.Equal(FoundKind.Short, report.Mismatches[0].Found);
        Assert.Equal(promisedSize - 1000 - (promisedSize - 1000) % 512, report.Mismatches[0].Offset);
        Assert.All(report.Mismatches.Skip(1), m => Assert.Equal(FoundKind.Missing, m.Found));
        Assert.Equal(promisedSize, report.Mismatches[^1].Offset + report.Mismatches[^1].Length);
        File.Delete(run.FilePath(last.File));
        Assert.Equal(-1, OracleVerifier.Verify(run.DataDir, run.Journal).Files[last.File].ActualSize);
        Assert.False(OracleVerifier.Verify(run.DataDir, run.Journal).Passed);
    }

    [Fact]
    public void Bad_usage_and_unreadable_journals_exit_2_with_a_message()
    {
        using var run = new Run();
        string verify = $"{FastlogBinary.Path} verify --dir {run.DataDir}";
        Assert.Equal(0, Shell.Run($"{verify} --journal {run.Journal}").Exit);
        foreach ((string args, string message) in new[]
                 {
                     ("", "--dir and --journal are required"),
                     ($"--journal {run.Journal} --up-to-promise {run.Result.Promises + 1}", $"has promises 1 to {run.Result.Promises}"),
                     ($"--journal {run.Journal} --up-to-promise x", "--up-to-promise x"),
                     ("--journal /etc/passwd", "/etc/passwd: not a stress journal"),
                     ($"--journal {run.Journal} --bogus", "--bogus"),
                 })
        {
            (int exit, string output) = Shell.Run($"{verify} {args}");
            Assert.True(exit == 2, $"{args}: exit {exit}\n{output}");
            Assert.Contains(message, output);
        }
        (int stressExit, string stressOutput) = Shell.Run($"{FastlogBinary.Path} stress --dir {run.DataDir} --journal {run.DataDir}/j --ops 1");
        Assert.Equal(2, stressExit);
        Assert.Contains("same file system", stressOutput);
        (stressExit, stressOutput) = Shell.Run($"{FastlogBinary.Path} stress --dir {run.DataDir} --journal {run.Journal}2 --write-size 1000-2000");
        Assert.Equal(2, stressExit);
        Assert.Contains("multiples of 512", stressOutput);
    }
}
