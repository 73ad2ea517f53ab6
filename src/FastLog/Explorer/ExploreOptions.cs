using FastLog.Explorer.Checkers;

namespace FastLog.Explorer;

public sealed record ExploreOptions
{
    public required string LogPath { get; init; }
    /// <summary>The image the log started from; never written. Null: zeros of <see cref="DeviceSize"/>.</summary>
    public string? BaseImage { get; init; }
    /// <summary>The device's size; null: the base image's, or what capture recorded in the log.</summary>
    public long? DeviceSize { get; init; }
    public string Points { get; init; } = "flush,fua,mark,end";
    /// <summary>Only crash points after this mark (the log before it, e.g. mkfs, is not a state to test).</summary>
    public string? AfterMark { get; init; }
    public PlanOptions Plan { get; init; } = new();
    public required IStateChecker Checker { get; init; }
    public int Jobs { get; init; } = Environment.ProcessorCount;
    /// <summary>This run checks the states whose key falls in shard <see cref="ShardIndex"/> of <see cref="ShardCount"/>.</summary>
    public int ShardIndex { get; init; }
    public int ShardCount { get; init; } = 1;
    /// <summary>Where results.jsonl (and the reports) go; required for <see cref="Resume"/>.</summary>
    public string? ReportDirectory { get; init; }
    public bool Resume { get; init; }
    public TimeSpan CheckTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Checks one failure's minimization may spend; 0 turns minimization off.</summary>
    public int MinimizeBudget { get; init; } = 200;
    /// <summary>Where the durable image and the jobs' files live (a real disk: the image is the device's size, sparse).</summary>
    public string WorkRoot { get; init; } = "/var/tmp";

    /// <summary>Option relations, checked where the options are built; a message for the user, or null.</summary>
    public string? Problem()
    {
        if (Jobs < 1) return "--jobs must be at least 1";
        if (ShardCount < 1 || ShardIndex < 0 || ShardIndex >= ShardCount) return $"--shard {ShardIndex}/{ShardCount}: want i/N with 0 <= i < N";
        if (Resume && ReportDirectory is null) return "--resume needs --report DIR (the results of the run to resume live there)";
        if (Plan.Budget < 1) return "--budget must be at least 1";
        if (Plan.MaxSubset is < 0 or > 20) return "--max-subset must be between 0 and 20 (2^20 states per crash point)";
        if (Plan.AtomicUnit < 1) return "--atomic-unit must be positive";
        if (Plan.Strategies == Strategies.None) return "--strategy names no strategy";
        if (DeviceSize is <= 0) return "--size must be positive";
        return null;
    }
}
