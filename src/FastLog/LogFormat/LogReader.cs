using FastLog.Interop;
using Microsoft.Win32.SafeHandles;

namespace FastLog.LogFormat;

/// <summary>
/// Streams a dm-log-writes v1 log entry by entry without loading it: one window of
/// <see cref="LogReaderOptions.BufferSize"/> bytes slides forward with large sequential reads.
/// Every header is validated (<see cref="LogEntryValidator"/>); damage raises <see cref="LogFormatException"/>
/// naming the file, entry number and byte offset.
/// </summary>
/// <remarks>
/// Not thread-safe. Spans returned by <see cref="ReadPayload"/> and <see cref="CurrentHeaderSector"/> stay
/// valid only until the next call on the reader.
/// </remarks>
public sealed class LogReader : IDisposable
{
    private readonly SafeFileHandle _handle;
    private byte[] _window;
    private byte[] _ahead;
    private Task<int>? _aheadTask;
    private long _aheadOffset;
    private long _windowStart;
    private int _windowLength;
    private int _currentHeaderInWindow = -1;

    private LogReader(string path, SafeFileHandle handle, long length, LogSuperBlock superBlock, LogReaderOptions options)
    {
        Path = path;
        _handle = handle;
        Length = length;
        SuperBlock = superBlock;
        Options = options;
        int size = Math.Max(options.BufferSize, 2 * (int)superBlock.SectorSize);
        _window = GC.AllocateUninitializedArray<byte>(size, pinned: true);
        _ahead = options.ReadAhead ? GC.AllocateUninitializedArray<byte>(size, pinned: true) : [];
        Position = SectorSize;
    }

    public string Path { get; }
    public LogReaderOptions Options { get; }
    public LogSuperBlock SuperBlock { get; }
    public int SectorSize => (int)SuperBlock.SectorSize;
    /// <summary>Log file length in bytes when it was opened.</summary>
    public long Length { get; }
    /// <summary>nr_entries as the super block declares it.</summary>
    public long DeclaredEntryCount => (long)Math.Min(SuperBlock.EntryCount, long.MaxValue);
    /// <summary>Number of the entry the next <see cref="TryReadNext"/> returns.</summary>
    public long NextEntryIndex { get; private set; }
    /// <summary>Byte offset of the next entry's header.</summary>
    public long Position { get; private set; }
    /// <summary>With <see cref="LogReaderOptions.ScanPastEntryCount"/>: entries read beyond nr_entries so far.</summary>
    public long RecoveredEntries => Math.Max(0, NextEntryIndex - DeclaredEntryCount);
    /// <summary>Set when a scan stopped at an implausible header: why it stopped.</summary>
    public string? ScanStopReason { get; private set; }

    /// <summary>Opens a log and validates its super block.</summary>
    /// <exception cref="LogFormatException">The super block is truncated or not dm-log-writes v1.</exception>
    /// <exception cref="IOException">The file cannot be opened or read, or is not a regular file or block device
    /// (a FIFO, pipe, directory: the message says which).</exception>
    public static LogReader Open(string path, LogReaderOptions? options = null)
    {
        SafeFileHandle handle = StorageFile.OpenForReading(path);
        try
        {
            handle.Advise(Libc.POSIX_FADV_SEQUENTIAL);
            long length = LogFileIdentity.SizeOf(handle, path).Size;
            Span<byte> super = stackalloc byte[LogSuperBlock.EncodedSize];
            int read = RandomAccess.Read(handle, super, 0);
            LogSuperBlock superBlock = LogSuperBlock.Read(super[..read], path);
            if (length < superBlock.SectorSize)
                throw new LogFormatException($"{path}: truncated super block: the file has {length} bytes, the {superBlock.SectorSize}-byte super sector does not fit");
            return new LogReader(path, handle, length, superBlock, options ?? LogReaderOptions.Default);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads and validates the next entry header. Returns false at nr_entries, or with a scan at the first
    /// implausible header or the end of the file.
    /// </summary>
    /// <exception cref="LogFormatException">An entry before nr_entries is malformed or runs past the end of the file.</exception>
    public bool TryReadNext(out LogEntry entry)
    {
        entry = default;
        bool scanning = NextEntryIndex >= DeclaredEntryCount;
        if (scanning && !Options.ScanPastEntryCount)
            return false;
        long offset = Position;
        if (offset + SectorSize > Length)
        {
            if (scanning)
                return StopScan("end of file");
            throw new LogFormatException(Path, NextEntryIndex, offset,
                $"entry runs past end of file: its header sector needs bytes {offset}..{offset + SectorSize}, the file has {Length} (nr_entries says {DeclaredEntryCount})");
        }
        ReadOnlySpan<byte> sector = Window(offset, SectorSize);
        LogEntryHeader header = LogEntryHeader.ReadFrom(sector);
        if (LogEntryValidator.Problem(sector, header, offset, Length) is { } problem)
        {
            if (scanning)
                return StopScan($"entry {NextEntryIndex} at byte offset {offset}: {problem}");
            throw new LogFormatException(Path, NextEntryIndex, offset, problem);
        }
        _currentHeaderInWindow = (int)(offset - _windowStart);
        string? mark = header.IsMark ? LogEntryHeader.ReadMarkName(sector, header) : null;
        long payloadLength = (long)header.PayloadSectors * SectorSize;
        entry = new LogEntry(NextEntryIndex, offset, header, mark, offset + SectorSize, payloadLength);
        NextEntryIndex++;
        Position = entry.NextOffset;
        return true;
    }

    /// <summary>Tells the kernel how the log will be read next (POSIX_FADV_RANDOM for scattered header reads,
    /// POSIX_FADV_SEQUENTIAL, the default, for a pass).</summary>
    internal void Advise(int advice) => _handle.Advise(advice);

    /// <summary>
    /// Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/> with one read, without
    /// validation or moving; false if the file ends before.
    /// </summary>
    public bool TryReadAt(long offset, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            int n = RandomAccess.Read(_handle, destination[done..], offset + done);
            if (n <= 0)
                return false;
            done += n;
        }
        return true;
    }

    /// <summary>The header sector of the entry last returned, e.g. to copy it bit for bit.</summary>
    public ReadOnlySpan<byte> CurrentHeaderSector
    {
        get
        {
            if (_currentHeaderInWindow < 0)
                throw new InvalidOperationException("no current entry");
            return _window.AsSpan(_currentHeaderInWindow, SectorSize);
        }
    }

    /// <summary>
    /// Returns up to <paramref name="maxBytes"/> payload bytes of <paramref name="entry"/> starting at
    /// <paramref name="offsetInPayload"/>, straight from the read window (no copy). Returns at least one
    /// byte while payload remains; loop until <see cref="LogEntry.PayloadLength"/> is consumed.
    /// </summary>
    public ReadOnlySpan<byte> ReadPayload(in LogEntry entry, long offsetInPayload, int maxBytes = int.MaxValue)
    {
        long remaining = entry.PayloadLength - offsetInPayload;
        if (offsetInPayload < 0 || remaining < 0)
            throw new ArgumentOutOfRangeException(nameof(offsetInPayload));
        if (remaining == 0)
            return [];
        long offset = entry.PayloadOffset + offsetInPayload;
        int wanted = (int)Math.Min(Math.Min(remaining, maxBytes), _window.Length);
        _currentHeaderInWindow = -1;
        if (offset >= _windowStart && offset < _windowStart + _windowLength)
        {
            int available = (int)(_windowStart + _windowLength - offset);
            return _window.AsSpan((int)(offset - _windowStart), Math.Min(available, wanted));
        }
        return Window(offset, wanted);
    }

    /// <summary>Copies the whole payload of <paramref name="entry"/> into <paramref name="destination"/>.</summary>
    public void CopyPayload(in LogEntry entry, Span<byte> destination)
    {
        if (destination.Length < entry.PayloadLength)
            throw new ArgumentException($"destination holds {destination.Length} bytes, payload has {entry.PayloadLength}", nameof(destination));
        long done = 0;
        while (done < entry.PayloadLength)
        {
            ReadOnlySpan<byte> chunk = ReadPayload(entry, done);
            chunk.CopyTo(destination[(int)done..]);
            done += chunk.Length;
        }
    }

    /// <summary>
    /// Continues reading at entry <paramref name="entryIndex"/> whose header is at <paramref name="headerOffset"/>
    /// (both from a <see cref="LogIndex"/>): O(1), no walk over the entries before it.
    /// </summary>
    public void SeekTo(long entryIndex, long headerOffset)
    {
        if (entryIndex < 0 || headerOffset < SectorSize || (headerOffset % SectorSize) != 0)
            throw new ArgumentOutOfRangeException(nameof(headerOffset), $"entry {entryIndex} at byte offset {headerOffset} is not a header position");
        NextEntryIndex = entryIndex;
        Position = headerOffset;
        ScanStopReason = null;
        _currentHeaderInWindow = -1;
    }

    private bool StopScan(string reason)
    {
        ScanStopReason = reason;
        return false;
    }

    /// <summary>Makes [offset, offset+count) resident in the window, refilling it from offset if needed.</summary>
    private ReadOnlySpan<byte> Window(long offset, int count)
    {
        if (offset < _windowStart || offset + count > _windowStart + _windowLength)
        {
            if (!TryTakeReadAhead(offset, count))
            {
                _windowStart = offset;
                _windowLength = ReadFully(_window, offset);
            }
            if (_windowLength < count)
                throw new LogFormatException(Path, NextEntryIndex, offset,
                    $"file shrank while reading: needed {count} bytes, got {_windowLength}");
            StartReadAhead();
        }
        return _window.AsSpan((int)(offset - _windowStart), count);
    }

    /// <summary>Reading sequentially, the next window is read in the background while this one is consumed.</summary>
    private void StartReadAhead()
    {
        long next = _windowStart + _windowLength;
        if (!Options.ReadAhead || _windowLength < _window.Length || next >= Length)
            return;
        byte[] buffer = _ahead;
        _aheadOffset = next;
        _aheadTask = Task.Run(() => ReadFully(buffer, next));
    }

    /// <summary>Swaps in the read-ahead window if it holds [offset, offset+count); a seek elsewhere discards it.</summary>
    private bool TryTakeReadAhead(long offset, int count)
    {
        if (_aheadTask is null)
            return false;
        int length = _aheadTask.GetAwaiter().GetResult();
        _aheadTask = null;
        if (offset < _aheadOffset || offset + count > _aheadOffset + length)
            return false;
        (_window, _ahead) = (_ahead, _window);
        _windowStart = _aheadOffset;
        _windowLength = length;
        return true;
    }

    private int ReadFully(byte[] buffer, long offset)
    {
        int toRead = (int)Math.Min(buffer.Length, Length - offset);
        int done = 0;
        while (done < toRead)
        {
            int n = RandomAccess.Read(_handle, buffer.AsSpan(done, toRead - done), offset + done);
            if (n == 0)
                break;
            done += n;
        }
        return done;
    }

    public void Dispose()
    {
        try { _aheadTask?.Wait(); } catch (AggregateException) { /* the read is abandoned with the reader */ }
        _handle.Dispose();
    }
}
