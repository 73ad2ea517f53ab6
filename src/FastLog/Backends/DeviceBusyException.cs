namespace FastLog.Backends;

/// <summary>
/// A block device FastLog would write is mounted or held exclusively by another program (open with O_EXCL failed
/// with EBUSY). Writing it would corrupt what is using it, so this is never retried another way.
/// </summary>
public sealed class DeviceBusyException(string message) : IOException(message);
