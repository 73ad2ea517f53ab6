using FastLog.Backends;
using FastLog.Capture;
using FastLog.Frontends;

namespace FastLog.Devices;

/// <summary>How a device is shown: to the kernel by a frontend, or only in this process (embedded use).</summary>
public enum FrontendKind
{
    /// <summary>ublk where the kernel has it (/dev/ublk-control), else FUSE + loop.</summary>
    Auto,
    Ublk,
    /// <summary>A FUSE file behind a loop device.</summary>
    Fuse,
    /// <summary>No kernel device: read and write <see cref="LoggedDevice.Backend"/> in process.</summary>
    None,
}

/// <summary>Arms power-fail injection: a volatile write cache under the log that a cut can lose.</summary>
public sealed record PowerFailOptions(PowerFailTrigger Trigger, PowerFailKeep Keep, long CacheBytes);

/// <summary>Everything <see cref="LoggedDevice.Open"/> needs; <see cref="Problem"/> checks how the options relate.</summary>
public sealed record DeviceOptions
{
    /// <summary>A regular file (its size is the device's) or a block device.</summary>
    public required string Backing { get; init; }
    /// <summary>The log (a file or a block device, dm-log-writes v1); null serves the backing unlogged.</summary>
    public string? Log { get; init; }
    public FrontendKind Frontend { get; init; } = FrontendKind.Auto;
    /// <summary>512 or 4096: the device's logical block size, which is also the log's sector size and the volatile
    /// cache's block (the unit a power cut keeps or loses, and a crash state tears at).</summary>
    public int LogicalBlockSize { get; init; } = 512;
    public FrontendOptions FrontendOptions { get; init; } = new();
    public LogDurability Durability { get; init; } = LogDurability.Durable;
    /// <summary>Open the backing through the page cache instead of O_DIRECT (see <see cref="LoggedDevice.OpenBacking"/>).</summary>
    public bool BufferedBacking { get; init; }
    public PowerFailOptions? PowerFail { get; init; }

    /// <summary>A message for the user when the options do not fit together, else null.</summary>
    public string? Problem()
    {
        if (string.IsNullOrEmpty(Backing))
            return "a backing store is required";
        if (PowerFail is not null && Log is null)
            return "power-fail injection needs a log (the log is what reproduces the crash)";
        if (FrontendOptions.Queues < 1 || FrontendOptions.QueueDepth < 1)
            return "queues and queue depth must be at least 1";
        if (LogicalBlockSize is not (512 or 4096))
            return "the logical block size must be 512 or 4096";
        if (Log is not null && (Path.GetFullPath(Log) == Path.GetFullPath(Backing) || FileBackend.AreSameFile(Log, Backing)))
            return "the log cannot be the backing store";
        if (PowerFail is { } p && p.CacheBytes % LogicalBlockSize != 0)
            return $"the cache size must be a multiple of the logical block size {LogicalBlockSize}";
        if (PowerFail is { } q && q.CacheBytes < VolatileCacheBackend.MinimumCapacity)
            return $"the cache size is below the minimum of {VolatileCacheBackend.MinimumCapacity >> 20} MiB";
        return null;
    }
}
