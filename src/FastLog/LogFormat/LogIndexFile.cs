using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using FastLog.Interop;
using Microsoft.Win32.SafeHandles;

namespace FastLog.LogFormat;

/// <summary>
/// The saved form of a <see cref="LogIndex"/>: <c>LOG.flidx</c> beside a regular-file log; for a block-device
/// log (xfstests' $LOGWRITES_DEV) in <c>$FASTLOG_INDEX_DIR</c> (default /var/tmp/fastlog-index). Layout
/// (little-endian): magic "FLIDX001", the log's length, mtime ticks, nr_entries, sectorsize, scan flag,
/// entry count, the 32-byte entries, marks (entry, name), then the scan stop reason and damage, if any.
/// </summary>
/// <remarks>
/// Trust: the file is outside FastLog's control, so it is used only if the log's length, mtime (meaningless for a
/// device), nr_entries and the scan choice match and <see cref="LogIndexVerifier"/> finds every indexed header in
/// the log as recorded; on any disagreement the log is re-indexed and the file rewritten (atomically, via rename
/// of an O_EXCL|O_NOFOLLOW temporary). An index can therefore never change what a replay or inspect does, only
/// how fast it starts. Failing to save (read-only directory) is not an error: the index then lives in memory only.
/// </remarks>
public static class LogIndexFile
{
    private const ulong Magic = 0x3130305844494c46; // "FLIDX001"

    /// <summary>Where the index of a regular-file log is saved.</summary>
    public static string PathFor(string logPath) => logPath + ".flidx";

    /// <summary>Where the index of <paramref name="logPath"/> is saved, by the kind of file it is.</summary>
    public static string PathFor(string logPath, LogFileIdentity identity)
    {
        if (identity.IsRegularFile)
            return PathFor(logPath);
        string directory = Environment.GetEnvironmentVariable("FASTLOG_INDEX_DIR") is { Length: > 0 } configured
            ? configured : "/var/tmp/fastlog-index";
        return System.IO.Path.Combine(directory, System.IO.Path.GetFullPath(logPath).Replace('/', '_') + ".flidx");
    }

    /// <summary>
    /// Loads the saved index of <paramref name="logPath"/> if it is current, else builds one in one pass and
    /// saves it.
    /// </summary>
    /// <exception cref="LogFormatException">The log's super block is bad.</exception>
    public static LogIndex OpenOrBuild(string logPath, bool scan = false)
    {
        using var reader = LogReader.Open(logPath, new LogReaderOptions { ScanPastEntryCount = scan });
        var identity = LogFileIdentity.Of(logPath);
        if (TryLoad(logPath, identity, reader.SuperBlock.EntryCount, scan) is { } saved && LogIndexVerifier.Matches(saved, reader))
            return saved;
        LogIndex index = LogIndex.Build(reader);
        TrySave(index);
        return index;
    }

    /// <summary>
    /// Saves <paramref name="index"/> beside its log; returns false if that is not possible (a directory that is
    /// not writable: the index then lives in memory only). The file is written under an unpredictable temporary
    /// name created O_EXCL|O_NOFOLLOW (a planted file or symlink is never written through) and renamed into place.
    /// </summary>
    public static bool TrySave(LogIndex index)
    {
        string path = PathFor(index.LogPath, index.Header.Identity);
        string temporary = $"{path}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(8))}.tmp";
        bool created = false;
        try
        {
            string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            Directory.CreateDirectory(directory);
            int fd = Libc.Open(temporary, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0b110_100_100);
            if (fd < 0)
                return false; // not writable (EACCES, EROFS), or someone raced us to the name: no index file this time
            created = true;
            using (var stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, 1 << 20))
            using (var writer = new BinaryWriter(stream, Encoding.UTF8))
                Write(writer, index);
            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            if (created)
                try { File.Delete(temporary); } catch (Exception) { /* best effort */ }
            return false;
        }
    }

    /// <summary>The saved index if it exists and matches the log as it is now, else null.</summary>
    public static LogIndex? TryLoad(string logPath, LogFileIdentity identity, ulong nrEntries, bool scan)
    {
        string path = PathFor(logPath, identity);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (reader.ReadUInt64() != Magic)
                return null;
            var savedIdentity = new LogFileIdentity(reader.ReadInt64(), reader.ReadInt64(), identity.IsRegularFile);
            ulong declared = reader.ReadUInt64();
            int sectorSize = reader.ReadInt32();
            bool scanned = reader.ReadBoolean();
            if (savedIdentity != identity || declared != nrEntries || scanned != scan)
                return null;
            // Sizes from the file are bounded by its length before anything is allocated for them.
            int count = reader.ReadInt32();
            if (count < 0 || count > (stream.Length - stream.Position) / Marshal.SizeOf<LogIndexEntry>())
                return null;
            var entries = new LogIndexEntry[count];
            stream.ReadExactly(MemoryMarshal.AsBytes(entries.AsSpan()));
            int markCount = reader.ReadInt32();
            if (markCount < 0 || markCount > count || markCount > (stream.Length - stream.Position) / 5)
                return null;
            var marks = new Dictionary<int, string>(markCount);
            for (int i = 0; i < markCount; i++)
            {
                int entry = reader.ReadInt32();
                if (entry < 0 || entry >= count || !marks.TryAdd(entry, reader.ReadString()))
                    return null;
            }
            string? stopReason = reader.ReadBoolean() ? reader.ReadString() : null;
            LogFormatException? damage = reader.ReadBoolean()
                ? new LogFormatException(logPath, reader.ReadInt64(), reader.ReadInt64(), reader.ReadString())
                : null;
            var header = new LogIndexHeader(logPath, identity, sectorSize, declared, scanned, stopReason, damage);
            return new LogIndex(header, entries, marks) { LoadedFromFile = true };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EndOfStreamException or OverflowException or ArgumentException)
        {
            return null; // missing, unreadable or truncated: rebuild
        }
    }

    private static void Write(BinaryWriter writer, LogIndex index)
    {
        LogIndexHeader h = index.Header;
        writer.Write(Magic);
        writer.Write(h.Identity.Length);
        writer.Write(h.Identity.LastWriteTicks);
        writer.Write(h.NrEntries);
        writer.Write(h.SectorSize);
        writer.Write(h.Scanned);
        writer.Write(index.Count);
        writer.Write(MemoryMarshal.AsBytes(index.Entries));
        writer.Write(index.MarkNames.Count);
        foreach ((int entry, string name) in index.MarkNames)
        {
            writer.Write(entry);
            writer.Write(name);
        }
        writer.Write(h.ScanStopReason is not null);
        if (h.ScanStopReason is not null)
            writer.Write(h.ScanStopReason);
        writer.Write(h.Damage is not null);
        if (h.Damage is { } damage)
        {
            writer.Write(damage.Entry);
            writer.Write(damage.ByteOffset);
            writer.Write(damage.Problem ?? damage.Message);
        }
    }
}
