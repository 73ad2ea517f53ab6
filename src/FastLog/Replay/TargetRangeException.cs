namespace FastLog.Replay;

/// <summary>
/// A write or discard that would reach outside the replay target: past the end of a block device, or at a
/// negative offset. Thrown by <see cref="ReplayTarget"/> before anything is written; the replayer reports it as
/// damage of the entry that asked for it (<see cref="FastLog.LogFormat.LogFormatException"/>).
/// </summary>
public sealed class TargetRangeException(string message) : IOException(message);
