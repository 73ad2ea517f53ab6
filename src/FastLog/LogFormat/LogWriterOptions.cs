namespace FastLog.LogFormat;

/// <summary>How a <see cref="LogWriter"/> keeps the super block's nr_entries current.</summary>
public sealed record LogWriterOptions
{
    /// <summary>
    /// Rewrite nr_entries after every FUA and MARK entry, as the kernel target does. Off: only at close,
    /// which is faster for bulk generation. Either way a crash before <see cref="LogWriter.Close"/> leaves
    /// the count stale, exactly the situation <c>--scan</c> recovers from.
    /// </summary>
    public bool UpdateSuperOnFuaAndMark { get; init; } = true;

    /// <summary>Bytes buffered before one large write to the log.</summary>
    public int BufferSize { get; init; } = 8 << 20;

    public static LogWriterOptions Default { get; } = new();
}
