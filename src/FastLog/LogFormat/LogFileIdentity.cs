using FastLog.Interop;

namespace FastLog.LogFormat;

/// <summary>
/// What identifies one version of a log file for its saved index: size and modification time. Together
/// with nr_entries from the super block, a change in either means the index is stale and is rebuilt.
/// </summary>
public readonly record struct LogFileIdentity(long Length, long LastWriteTicks, bool IsRegularFile)
{
    public static LogFileIdentity Of(string path)
    {
        // A block device's contents change without its mtime moving, so only regular files get an identity
        // that can vouch for a saved index.
        if (!IsRegularFileAt(path))
            return new LogFileIdentity(0, 0, false);
        var info = new FileInfo(path);
        return new LogFileIdentity(info.Length, info.LastWriteTimeUtc.Ticks, true);
    }

    private static bool IsRegularFileAt(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return Libc.FStat((int)handle.DangerousGetHandle(), out uint mode, out _) == 0
                && (mode & Libc.S_IFMT) == Libc.S_IFREG;
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }
}
