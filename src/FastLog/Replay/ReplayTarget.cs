using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using FastLog.Backends;
using FastLog.Interop;
using Microsoft.Win32.SafeHandles;

namespace FastLog.Replay;

/// <summary>
/// The file or block device a log is replayed onto. Writes are coalesced: adjacent writes fill one large
/// aligned buffer that goes out as a single pwrite (O_DIRECT when the target allows). A dedicated writer
/// thread drains a queue of full buffers while the caller fills the next ones, so reading the log and
/// writing the target overlap. DISCARD punches a hole in a regular file and is BLKDISCARD on a device; if
/// that fails it becomes a zeroing (BLKZEROOUT / ZERO_RANGE, then plain zero writes), never a skip.
/// </summary>
/// <remarks>
/// Ordering invariant: one writer thread issues queued runs in FIFO order, and every discard and sync first
/// waits for the queue to empty, so operations reach the target in log order. Not thread-safe for callers.
/// Range invariant: nothing is written outside a block device (a <see cref="TargetRangeException"/> is thrown
/// before), and a discard never grows a regular file: it is clipped to the file's extent (its size when opened or
/// the end of the furthest write since), beyond which the file reads zeros anyway.
/// </remarks>
public sealed unsafe class ReplayTarget : IDisposable
{
    private const long DiscardChunk = 1L << 30; // as replay-log: no single ioctl larger than 1 GiB
    private const int DirectAlignment = 512;
    private const int BufferCount = 4;

    private readonly FileBackend _buffered;
    private readonly FileBackend? _direct;
    private volatile bool _directRefused;
    private readonly int _capacity;
    private readonly nint[] _buffers;
    private readonly BlockingCollection<nint> _free = new(BufferCount);
    private readonly BlockingCollection<(nint Buffer, long Offset, int Length)> _queue = new(BufferCount);
    private readonly Thread _writer;
    private readonly object _gate = new();
    private int _queued; // runs handed to the writer and not yet written; guarded by _gate
    private int _writeError; // first negative errno from the writer thread
    private byte* _filling;
    private long _runOffset;
    private int _runLength;
    private bool _zeroInsteadOfDiscard;
    private readonly TextWriter? _verbose;
    private long _extent; // regular file: its size when opened, or the end of the furthest write since

    private ReplayTarget(FileBackend buffered, FileBackend? direct, int capacity, TextWriter? verbose)
    {
        _buffered = buffered;
        _direct = direct;
        _capacity = capacity;
        _verbose = verbose;
        _extent = buffered.Size;
        _buffers = new nint[BufferCount];
        for (int i = 0; i < BufferCount; i++)
        {
            _buffers[i] = (nint)NativeMemory.AlignedAlloc((nuint)capacity, 4096);
            _free.Add(_buffers[i]);
        }
        _filling = (byte*)_free.Take();
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "replay-writer" };
        _writer.Start();
    }

    public string Path => _buffered.Path;
    public bool IsBlockDevice => _buffered.IsBlockDevice;
    /// <summary>Bytes in the device, or in the regular file when it was opened (a file grows as it is written).</summary>
    public long Size => _buffered.Size;
    /// <summary>Bytes handed to pwrite, and how many pwrite calls carried them (coalescing shows as few calls).</summary>
    public long BytesWritten { get; private set; }
    public long WriteCalls { get; private set; }

    /// <summary>
    /// Opens an existing file or block device (never creates one, as replay-log opens O_WRONLY). With
    /// <paramref name="direct"/>, aligned runs use O_DIRECT, silently buffered where unsupported (tmpfs).
    /// <paramref name="verbose"/> hears when discards turn into zeroing. <paramref name="bufferSize"/> is the
    /// size of one coalesced write; <see cref="BufferCount"/> of them are allocated.
    /// </summary>
    public static ReplayTarget Open(string path, bool direct = true, TextWriter? verbose = null, int bufferSize = 16 << 20)
    {
        FileBackend buffered = FileBackend.Open(path, direct: false, allowEmpty: true, role: "replay target");
        FileBackend? directBackend = null;
        if (direct)
        {
            // The buffered fd holds a block device exclusively; a second O_EXCL open of it would be refused.
            try { directBackend = FileBackend.Open(path, direct: true, allowEmpty: true, exclusive: false, role: "replay target"); }
            catch (IOException) { /* O_DIRECT unsupported here: buffered only */ }
        }
        return new ReplayTarget(buffered, directBackend, Math.Max(bufferSize, 1 << 16) & ~4095, verbose);
    }

    /// <summary>
    /// Applies one log entry as replay-log does: a write's payload (read from <paramref name="log"/>) lands at its
    /// sector, a DISCARD makes its range read back as zeros, and FLUSH or MARK entries without data change nothing.
    /// The one implementation of these semantics that replay and the crash-state explorer share.
    /// </summary>
    public void Apply(SafeFileHandle log, in LogFormat.LogIndexEntry entry, int sectorSize)
    {
        if (entry.NrSectors == 0)
            return;
        long offset = (long)entry.Sector * sectorSize, length = (long)entry.NrSectors * sectorSize;
        if (entry.IsDiscard)
            Discard(offset, length);
        else
            WriteFrom(log, entry.HeaderOffset + sectorSize, offset, length);
    }

    /// <summary>Queues <paramref name="data"/> for byte offset <paramref name="offset"/>.</summary>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        CheckRange("write", offset, data.Length);
        while (!data.IsEmpty)
        {
            Span<byte> room = RoomAt(offset, data.Length);
            data[..room.Length].CopyTo(room);
            Filled(room.Length);
            offset += room.Length;
            data = data[room.Length..];
        }
    }

    /// <summary>
    /// Queues <paramref name="length"/> bytes read from <paramref name="source"/> at <paramref name="sourceOffset"/>
    /// for byte offset <paramref name="offset"/>. The bytes go from the log straight into the coalescing buffer,
    /// one copy fewer than reading them into a buffer of one's own first.
    /// </summary>
    public void WriteFrom(SafeFileHandle source, long sourceOffset, long offset, long length)
    {
        CheckRange("write", offset, length);
        while (length > 0)
        {
            Span<byte> room = RoomAt(offset, (int)Math.Min(length, int.MaxValue));
            int read = RandomAccess.Read(source, room, sourceOffset);
            if (read <= 0)
                throw new IOException($"log ended at byte {sourceOffset} while reading a payload (the file shrank?)");
            Filled(read);
            offset += read;
            sourceOffset += read;
            length -= read;
        }
    }

    /// <summary>
    /// Throws before a write or discard of [offset, offset+length) that leaves a block device or starts before
    /// byte 0; for a regular file it records how far the file extends.
    /// </summary>
    private void CheckRange(string what, long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > long.MaxValue - length)
            throw new TargetRangeException($"{what} of {length} bytes at byte {offset} of {Path} is outside any device");
        if (IsBlockDevice && offset + length > Size)
            throw new TargetRangeException($"{what} of bytes {offset}..{offset + length} reaches past the end of {Path} ({Size} bytes)");
        if (!IsBlockDevice && what == "write")
            _extent = Math.Max(_extent, offset + length);
    }

    /// <summary>
    /// Free space in the run buffer for bytes bound for <paramref name="offset"/>, at most <paramref name="wanted"/>
    /// bytes; a write that does not continue the current run queues that run first.
    /// </summary>
    private Span<byte> RoomAt(long offset, int wanted)
    {
        if (_runLength > 0 && offset != _runOffset + _runLength)
            QueueRun();
        if (_runLength == 0)
            _runOffset = offset;
        return new Span<byte>(_filling + _runLength, Math.Min(wanted, _capacity - _runLength));
    }

    /// <summary>Takes <paramref name="count"/> bytes just put into <see cref="RoomAt"/>'s span into the run.</summary>
    private void Filled(int count)
    {
        _runLength += count;
        if (_runLength == _capacity)
            QueueRun();
    }

    /// <summary>Discards [offset, offset+length): afterwards the range reads back as zeros.</summary>
    public void Discard(long offset, long length)
    {
        CheckRange("discard", offset, length);
        if (!IsBlockDevice)
            length = Math.Min(length, Math.Max(0, _extent - offset));
        if (length == 0)
            return;
        Drain();
        while (length > 0)
        {
            long chunk = Math.Min(length, DiscardChunk);
            int rc = _zeroInsteadOfDiscard ? -1 : _buffered.Discard(offset, chunk);
            if (rc < 0 && !_zeroInsteadOfDiscard)
            {
                _verbose?.WriteLine("replay device doesn't support discard, switching to writing zeros");
                _zeroInsteadOfDiscard = true;
            }
            if (rc < 0)
                rc = _buffered.WriteZeroes(offset, chunk);
            if (rc < 0)
                WriteZeroBytes(offset, chunk);
            offset += chunk;
            length -= chunk;
        }
    }

    /// <summary>Writes everything queued and makes it durable (the fsync before an fsck and at the end).</summary>
    public void Sync()
    {
        Drain();
        int rc = _buffered.Flush();
        if (rc < 0)
            throw new IOException($"{Path}: fsync failed: {Libc.ErrorText(-rc)}");
    }

    /// <summary>Writes everything queued, without fsync.</summary>
    public void Drain()
    {
        QueueRun();
        lock (_gate)
        {
            while (_queued > 0)
                Monitor.Wait(_gate);
        }
        ThrowIfWriteFailed();
    }

    private void QueueRun()
    {
        if (_runLength == 0)
            return;
        ThrowIfWriteFailed();
        lock (_gate)
            _queued++;
        _queue.Add(((nint)_filling, _runOffset, _runLength));
        BytesWritten += _runLength;
        WriteCalls++;
        _runLength = 0;
        _filling = (byte*)_free.Take(); // blocks only when every buffer is queued: the disk is the bottleneck
    }

    private void WriterLoop()
    {
        foreach ((nint buffer, long offset, int length) in _queue.GetConsumingEnumerable())
        {
            if (Volatile.Read(ref _writeError) == 0)
            {
                int rc = WriteRun((byte*)buffer, offset, length);
                if (rc < 0)
                    Interlocked.CompareExchange(ref _writeError, rc, 0);
            }
            _free.Add(buffer);
            lock (_gate)
            {
                _queued--;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>The first failed write of the target, as text, or null; set by the writer thread.</summary>
    public string? WriteFailure => Volatile.Read(ref _writeError) is < 0 and int rc ? $"Error writing data to {Path}: {Libc.ErrorText(-rc)}" : null;

    private void ThrowIfWriteFailed()
    {
        if (WriteFailure is { } failure)
            throw new IOException(failure);
    }

    private int WriteRun(byte* buffer, long offset, int length)
    {
        var data = new ReadOnlySpan<byte>(buffer, length);
        if (_direct is { } direct && !_directRefused && offset % DirectAlignment == 0 && length % DirectAlignment == 0)
        {
            int rc = direct.Write(offset, data, fua: false);
            if (rc != -Libc.EINVAL)
                return rc;
            _directRefused = true; // the target wants a larger alignment than the log's sectors give: stay buffered
        }
        return _buffered.Write(offset, data, fua: false);
    }

    private void WriteZeroBytes(long offset, long length)
    {
        var zeros = new Span<byte>(_filling, _capacity);
        zeros.Clear();
        while (length > 0)
        {
            int n = (int)Math.Min(length, _capacity);
            int rc = _buffered.Write(offset, zeros[..n], fua: false);
            if (rc < 0)
                throw new IOException($"Error zeroing {Path} at byte {offset}: {Libc.ErrorText(-rc)}");
            offset += n;
            length -= n;
        }
    }

    public void Dispose()
    {
        if (_filling == null)
            return;
        _queue.CompleteAdding();
        _writer.Join();
        _buffered.Dispose();
        _direct?.Dispose();
        foreach (nint buffer in _buffers)
            NativeMemory.AlignedFree((void*)buffer);
        _filling = null;
        _queue.Dispose();
        _free.Dispose();
    }
}
