using FastLog.Backends;
using FastLog.Interop;
using Microsoft.Win32.SafeHandles;

namespace FastLog.LogFormat;

/// <summary>
/// What identifies one version of a log for its saved index: size and modification time for a regular file.
/// A block device's contents change without its mtime moving, so for a device only the size is recorded and
/// <see cref="LogIndexFile"/> additionally re-reads sampled headers before trusting a saved index.
/// </summary>
public readonly record struct LogFileIdentity(long Length, long LastWriteTicks, bool IsRegularFile)
{
    public static LogFileIdentity Of(string path)
    {
        using var handle = StorageFile.OpenForReading(path);
        (long length, bool isBlockDevice) = SizeOf(handle, path);
        if (isBlockDevice)
            return new LogFileIdentity(length, 0, false);
        return new LogFileIdentity(length, File.GetLastWriteTimeUtc(path).Ticks, true);
    }

    /// <summary>Bytes in a regular file or block device (st_size is 0 for a device, so it asks BLKGETSIZE64).</summary>
    internal static (long Size, bool IsBlockDevice) SizeOf(SafeFileHandle handle, string path) =>
        FileDescriptor.With(handle, fd => FileBackend.SizeOf(fd, path));
}
