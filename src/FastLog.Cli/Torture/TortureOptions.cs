namespace FastLog.Cli.Torture;

internal sealed record TortureOptions
{
    public required string Fastlog { get; init; }
    public string Filesystem { get; init; } = "ext4";
    /// <summary>A file (recreated as zeros each cycle) or a block device; null: a sparse file in <see cref="Directory"/>.</summary>
    public string? Backing { get; init; }
    public long Size { get; init; }
    public TimeSpan Duration { get; init; } = TimeSpan.FromHours(2);
    public int? Cycles { get; init; }
    /// <summary>Stress runs at most this long per cycle; the power is cut at a random moment within it.</summary>
    public TimeSpan CycleStress { get; init; } = TimeSpan.FromSeconds(20);
    public int KeepLogs { get; init; } = 3;
    public required string Directory { get; init; }
    public ulong Seed { get; init; }
    /// <summary>Passed to stress as is (e.g. --skip-fsync-every 3, to see a broken workload caught).</summary>
    public string[] StressArguments { get; init; } = [];

    /// <summary>A device size the filesystem accepts (xfs wants 300 MB).</summary>
    public static long DefaultSize(string fs) => fs == "ext4" ? 128L << 20 : 320L << 20;
}
