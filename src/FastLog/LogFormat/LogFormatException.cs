namespace FastLog.LogFormat;

/// <summary>
/// A log that is truncated, corrupt or not a dm-log-writes v1 log. The message always names the file,
/// and where it applies the entry number and byte offset, so a user can find the damage with a hex editor.
/// </summary>
public sealed class LogFormatException : Exception
{
    public LogFormatException(string message) : base(message) { }

    public LogFormatException(string path, long entry, long byteOffset, string problem)
        : base($"{path}: entry {entry} at byte offset {byteOffset}: {problem}")
    {
        Path = path;
        Problem = problem;
        Entry = entry;
        ByteOffset = byteOffset;
    }

    public string? Path { get; }
    /// <summary>The problem alone, without file and position (null for whole-file problems).</summary>
    public string? Problem { get; }
    public long Entry { get; } = -1;
    public long ByteOffset { get; } = -1;
}
