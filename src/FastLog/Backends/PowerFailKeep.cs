namespace FastLog.Backends;

public enum PowerFailKeepKind { None, All, Random }

/// <summary>
/// Which of a <see cref="VolatileCacheBackend"/>'s cached (unflushed) blocks reach the media when the power fails:
/// <c>none</c>, <c>all</c>, or <c>random[:SEED]</c>. Random keeps each cached block (one logical block, the device's
/// atomic unit) independently with probability 1/2, so a multi-block write can come out torn at block boundaries,
/// never inside a block. Without a seed, one is drawn at the cut and recorded, so every cut can be reproduced.
/// </summary>
public readonly record struct PowerFailKeep(PowerFailKeepKind Kind, int? Seed = null)
{
    public const string Syntax = "none|all|random[:SEED]";

    public static PowerFailKeep None => new(PowerFailKeepKind.None);
    public static PowerFailKeep All => new(PowerFailKeepKind.All);

    /// <summary>Parses <see cref="Syntax"/>; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string text, out PowerFailKeep keep, out string? error)
    {
        error = null;
        keep = default;
        switch (text)
        {
            case "none": keep = None; return true;
            case "all": keep = All; return true;
            case "random": keep = new PowerFailKeep(PowerFailKeepKind.Random); return true;
        }
        if (text.StartsWith("random:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(7), out int seed) && seed >= 0)
        {
            keep = new PowerFailKeep(PowerFailKeepKind.Random, seed);
            return true;
        }
        error = $"'{text}' is not a keep policy ({Syntax}; SEED is a non-negative integer)";
        return false;
    }

    /// <summary>The same policy with a seed drawn now if it is random without one.</summary>
    public PowerFailKeep Resolved() => Kind == PowerFailKeepKind.Random && Seed is null ? this with { Seed = System.Random.Shared.Next() } : this;

    public override string ToString() => Kind switch
    {
        PowerFailKeepKind.None => "none",
        PowerFailKeepKind.All => "all",
        _ => Seed is int s ? $"random:{s}" : "random",
    };
}

/// <summary>A run of <see cref="Count"/> blocks from block <see cref="Start"/> (in the cache's unit: the log sector).</summary>
public readonly record struct BlockRange(long Start, long Count);

/// <summary>What a power cut left: how many blocks were cached, which of them were kept, and any error writing them.</summary>
public sealed record PowerCutResult(PowerFailKeep Keep, long CachedBlocks, long KeptBlocks, BlockRange[] Kept, int Error);

/// <summary>Told, under the cache's lock, that blocks were written back early because the cache was full.</summary>
public interface IWriteBackRecorder
{
    void WroteBack(ReadOnlySpan<BlockRange> ranges);
}
