using Microsoft.Win32.SafeHandles;

namespace FastLog.LogFormat;

/// <summary>
/// Appends entries in dm-log-writes v1 layout: super block in sector 0, then back to back
/// <c>[header sector][payload]</c>. <see cref="Close"/> appends the <c>dm-log-writes-end</c> mark and writes
/// the final nr_entries, like the kernel target's destructor.
/// </summary>
/// <remarks>
/// Invariants: every payload is a whole number of log sectors; entries are buffered and written with large
/// sequential writes; nothing in the file is valid for readers beyond the last super block update.
/// Not thread-safe.
/// </remarks>
public sealed class LogWriter : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly byte[] _buffer;
    private readonly LogWriterOptions _options;
    private int _buffered;
    private long _flushedLength;
    private bool _closed;

    private LogWriter(string path, SafeFileHandle handle, int sectorSize, LogWriterOptions options)
    {
        Path = path;
        _handle = handle;
        SectorSize = sectorSize;
        _options = options;
        _buffer = GC.AllocateUninitializedArray<byte>(Math.Max(options.BufferSize, 2 * sectorSize), pinned: true);
    }

    public string Path { get; }
    public int SectorSize { get; }
    /// <summary>Entries appended so far (the end mark included once closed).</summary>
    public long EntryCount { get; private set; }
    /// <summary>Bytes of log written or buffered, super sector included.</summary>
    public long Length => _flushedLength + _buffered;

    /// <summary>
    /// Creates (or truncates) <paramref name="path"/> and writes a super block with nr_entries 0.
    /// <paramref name="sectorSize"/> is a power of two from 512 to 65536 (512 and 4096 in practice).
    /// </summary>
    public static LogWriter Create(string path, int sectorSize = 512, LogWriterOptions? options = null)
    {
        if (sectorSize < 0 || !LogSuperBlock.IsValidSectorSize((uint)sectorSize))
            throw new ArgumentOutOfRangeException(nameof(sectorSize), $"log sector size must be a power of two from 512 to 65536, got {sectorSize}");
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
        var writer = new LogWriter(path, handle, sectorSize, options ?? LogWriterOptions.Default);
        writer.Reserve(sectorSize).Clear(); // the super sector, filled in by WriteSuper
        writer.FlushBuffer();
        writer.WriteSuper();
        return writer;
    }

    /// <summary>
    /// A write of <paramref name="data"/> (whole log sectors) at device sector <paramref name="sector"/>;
    /// <paramref name="extraFlags"/> adds FUA, METADATA (or FLUSH for a preflush write) to a plain write.
    /// </summary>
    public void AppendWrite(ulong sector, ReadOnlySpan<byte> data, LogEntryFlags extraFlags = LogEntryFlags.None)
    {
        if ((extraFlags & (LogEntryFlags.Discard | LogEntryFlags.Mark)) != 0)
            throw new ArgumentException("a write cannot carry DISCARD or MARK; use AppendDiscard or AppendMark", nameof(extraFlags));
        if (data.Length == 0 || data.Length % SectorSize != 0)
            throw new ArgumentException($"write payload must be a nonzero multiple of {SectorSize} bytes, got {data.Length}", nameof(data));
        Append(LogEntryHeader.Write(sector, (ulong)(data.Length / SectorSize), extraFlags), data);
    }

    /// <summary>A discard of <paramref name="nrSectors"/> log sectors; no payload follows it.</summary>
    public void AppendDiscard(ulong sector, ulong nrSectors) => Append(LogEntryHeader.Discard(sector, nrSectors), []);

    /// <summary>An empty flush (sector 0, nr_sectors 0, FLUSH), as the kernel logs a completed PREFLUSH.</summary>
    public void AppendFlush() => Append(LogEntryHeader.Flush(), []);

    /// <summary>A named mark, as <c>dmsetup message DEV 0 mark NAME</c> logs it.</summary>
    public void AppendMark(string name)
    {
        Span<byte> headerSector = Reserve(SectorSize);
        headerSector.Clear();
        LogEntryHeader.WriteMark(headerSector, name);
        Appended(LogEntryFlags.Mark);
    }

    /// <summary>
    /// Appends any entry: its header sector (zero padded), then <paramref name="payload"/>, which must be
    /// exactly the header's payload (nr_sectors*sectorsize for writes, empty for discards and marks).
    /// Marks go through <see cref="AppendMark"/>, which writes the name.
    /// </summary>
    public void Append(LogEntryHeader header, ReadOnlySpan<byte> payload)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (header.IsMark)
            throw new ArgumentException("use AppendMark for marks: the name lives in the header sector", nameof(header));
        if ((header.Flags & ~LogEntryFlags.Known) != 0)
            throw new ArgumentException($"unknown flags 0x{(ulong)header.Flags:x}", nameof(header));
        if (header.Flags == LogEntryFlags.None && header.NrSectors == 0)
            throw new ArgumentException("an entry with no flags and no sectors is the all-zero header readers reject", nameof(header));
        if ((ulong)payload.Length != header.PayloadSectors * (ulong)SectorSize)
            throw new ArgumentException($"payload of {payload.Length} bytes does not match nr_sectors {header.NrSectors} of {SectorSize} bytes", nameof(payload));
        Span<byte> headerSector = Reserve(SectorSize);
        headerSector.Clear();
        header.WriteTo(headerSector);
        while (!payload.IsEmpty)
        {
            if (_buffered == _buffer.Length)
                FlushBuffer();
            int n = Math.Min(payload.Length, _buffer.Length - _buffered);
            payload[..n].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += n;
            payload = payload[n..];
        }
        Appended(header.Flags);
    }

    /// <summary>Writes buffered entries and the current nr_entries to the file (no fsync).</summary>
    public void Flush()
    {
        FlushBuffer();
        WriteSuper();
    }

    /// <summary>Appends the <c>dm-log-writes-end</c> mark, writes nr_entries, fsyncs and closes.</summary>
    public void Close()
    {
        if (_closed)
            return;
        AppendMark(LogSuperBlock.EndMarkName);
        Flush();
        RandomAccess.FlushToDisk(_handle);
        _closed = true;
        _handle.Dispose();
    }

    /// <summary>
    /// Closes without the end mark and without updating nr_entries beyond its last update: what a host crash
    /// leaves behind. Buffered entries are still written, so a <c>--scan</c> can recover them.
    /// </summary>
    public void Abandon()
    {
        if (_closed)
            return;
        FlushBuffer();
        _closed = true;
        _handle.Dispose();
    }

    public void Dispose() => Close();

    private void Appended(LogEntryFlags flags)
    {
        EntryCount++;
        if (_options.UpdateSuperOnFuaAndMark && (flags & (LogEntryFlags.Fua | LogEntryFlags.Mark)) != 0)
            Flush();
    }

    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _buffered < count)
            FlushBuffer();
        Span<byte> span = _buffer.AsSpan(_buffered, count);
        _buffered += count;
        return span;
    }

    private void FlushBuffer()
    {
        if (_buffered == 0)
            return;
        RandomAccess.Write(_handle, _buffer.AsSpan(0, _buffered), _flushedLength);
        _flushedLength += _buffered;
        _buffered = 0;
    }

    private void WriteSuper()
    {
        Span<byte> super = stackalloc byte[LogSuperBlock.EncodedSize];
        new LogSuperBlock((ulong)EntryCount, (uint)SectorSize).WriteTo(super);
        RandomAccess.Write(_handle, super, 0);
    }
}
