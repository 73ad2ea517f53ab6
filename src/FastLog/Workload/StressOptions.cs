using FastLog.Capture;

namespace FastLog.Workload;

/// <summary>What <see cref="StressRunner"/> does; <see cref="Validate"/> names the first thing wrong.</summary>
public sealed record StressOptions
{
    public required string Directory { get; init; }
    /// <summary>Outside the device under test (checked): it must survive the device's failure.</summary>
    public required string JournalPath { get; init; }
    public int Files { get; init; } = 4;
    public long FileSize { get; init; } = 4L << 20;
    public int WriteMin { get; init; } = 4096;
    public int WriteMax { get; init; } = 65536;
    /// <summary>The chance that a write is followed by an fsync of its file (a promise).</summary>
    public double FsyncRatio { get; init; } = 0.1;
    public bool Fdatasync { get; init; }
    /// <summary>Stop after this long (with <see cref="Ops"/>, whichever comes first); neither means 60 s.</summary>
    public TimeSpan? Duration { get; init; }
    /// <summary>Stop after this many writes.</summary>
    public long? Ops { get; init; }
    public ulong Seed { get; init; }
    /// <summary>The captured device whose log gets a <c>stress:K</c> mark after each promise (<see cref="StressMarks"/>).</summary>
    public string? MarkDevice { get; init; }
    public string MarkRoot { get; init; } = MarkServer.DefaultRoot;
    /// <summary>Every Nth promise is journaled and marked but its fsync is not called: a broken workload for
    /// showing that verify catches a promise that was not kept. 0: every promise is honest.</summary>
    public int SkipFsyncEvery { get; init; }
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(60);

    public string? Validate()
    {
        int unit = StressContent.UnitSize;
        if (Files < 1 || Files > 100_000)
            return $"--files {Files}: from 1 to 100000";
        if (FileSize < unit || FileSize % unit != 0)
            return $"--file-size {FileSize}: a positive multiple of {unit} bytes";
        if (WriteMin < unit || WriteMax < WriteMin || WriteMin % unit != 0 || WriteMax % unit != 0)
            return $"--write-size {WriteMin}-{WriteMax}: MIN <= MAX, both multiples of {unit} bytes (the oracle's unit)";
        if (WriteMax > FileSize)
            return $"--write-size max {WriteMax} exceeds --file-size {FileSize}";
        if (WriteMax > 64 << 20)
            return $"--write-size max {WriteMax}: at most 64 MiB";
        if (!(FsyncRatio is >= 0 and <= 1))
            return $"--fsync-ratio {FsyncRatio}: from 0 to 1";
        if (Duration is { } d && d <= TimeSpan.Zero)
            return "--duration must be positive";
        if (Ops is < 1)
            return $"--ops {Ops}: at least 1";
        if (SkipFsyncEvery < 0)
            return $"--skip-fsync-every {SkipFsyncEvery}: 0 (off) or more";
        return null;
    }
}

/// <summary>Where stress stopped on an I/O error from the device under test.</summary>
/// <param name="Sequence">The write's sequence number (op Write), or the promise's (Fsync, Fdatasync, Mark).</param>
/// <param name="Offset">The write's offset, or -1.</param>
/// <param name="Detail">What failed, when it is not just errno (the mark server's reply).</param>
/// <param name="FileIndex">The file's number, -1 for the directory.</param>
public sealed record StressFailure(StressOp Op, int FileIndex, string File, long Sequence, long Offset, int Errno, string? Detail = null)
{
    private string Reason => Detail ?? Interop.Libc.ErrorText(Errno);


    public override string ToString() => Op switch
    {
        StressOp.Write => $"write {Sequence} to {File} at offset {Offset} failed: {Reason}",
        StressOp.Mark => $"mark {StressMarks.Name(Sequence)} after the fsync of {File} failed: {Reason}",
        StressOp.Open => $"creating {File} failed: {Reason}",
        _ => $"{Op.ToString().ToLowerInvariant()} of {File} for promise {Sequence} failed: {Reason}",
    };
}

/// <summary>What a stress run did.</summary>
public sealed record StressResult(long Writes, long Promises, long SkippedFsyncs, TimeSpan Elapsed, StressFailure? Failure, bool Interrupted);
