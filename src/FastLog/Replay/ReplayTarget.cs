using System.Runtime.InteropServices;
using FastLog.Backends;
using FastLog.Interop;

namespace FastLog.Replay;

/// <summary>
/// The file or block device a log is replayed onto. Writes are coalesced: adjacent writes fill one large
/// aligned buffer that goes out as a single pwrite (O_DIRECT when the target allows), on a background task
/// while the next buffer fills. DISCARD punches a hole in a regular file and is BLKDISCARD on a device; if
/// that fails it becomes a zeroing (BLKZEROOUT / ZERO_RANGE, then plain zero writes), never a skip.
/// </summary>
/// <remarks>
/// Ordering invariant: at most one buffer is in flight, and every discard, sync or non-adjacent write waits
/// for it, so operations reach the target in log order. Not thread-safe.
/// </remarks>
public sealed unsafe class ReplayTarget : IDisposable
{
    private const long DiscardChunk = 1L << 30; // as replay-log: no single ioctl larger than 1 GiB
    private const int DirectAlignment = 512;

    private readonly FileBackend _buffered;
    private readonly FileBackend? _direct;
    private volatile bool _directRefused;
    private readonly int _capacity;
    private byte* _filling;
    private byte* _spare;
    private long _runOffset;
    private int _runLength;
    private Task<int>? _inFlight;
    private bool _zeroInsteadOfDiscard;
    private readonly TextWriter? _verbose;

    private ReplayTarget(FileBackend buffered, FileBackend? direct, int capacity, TextWriter? verbose)
    {
        _buffered = buffered;
        _direct = direct;
        _capacity = capacity;
        _verbose = verbose;
        _filling = (byte*)NativeMemory.AlignedAlloc((nuint)capacity, 4096);
        _spare = (byte*)NativeMemory.AlignedAlloc((nuint)capacity, 4096);
    }

    public string Path => _buffered.Path;
    public bool IsBlockDevice => _buffered.IsBlockDevice;
    /// <summary>Bytes handed to pwrite, and how many pwrite calls carried them (coalescing shows as few calls).</summary>
    public long BytesWritten { get; private set; }
    public long WriteCalls { get; private set; }

    /// <summary>Opens an existing file or block device (never creates one, as replay-log opens O_WRONLY).</summary>
    /// <param name="path">Target path.</param>
    /// <param name="direct">Also open with O_DIRECT for aligned runs; silently buffered where unsupported (tmpfs).</param>
    /// <param name="verbose">Where to say that discards turned into zeroing, or null.</param>
    /// <param name="bufferSize">Bytes per coalesced write.</param>
    public static ReplayTarget Open(string path, bool direct = true, TextWriter? verbose = null, int bufferSize = 8 << 20)
    {
        FileBackend buffered = FileBackend.Open(path, direct: false, allowEmpty: true);
        FileBackend? directBackend = null;
        if (direct)
        {
            try { directBackend = FileBackend.Open(path, direct: true, allowEmpty: true); }
            catch (IOException) { /* O_DIRECT unsupported here: buffered only */ }
        }
        return new ReplayTarget(buffered, directBackend, Math.Max(bufferSize, 1 << 16) & ~4095, verbose);
    }

    /// <summary>Queues <paramref name="data"/> for byte offset <paramref name="offset"/>.</summary>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_runLength > 0 && offset != _runOffset + _runLength)
                StartFlushRun();
            if (_runLength == 0)
                _runOffset = offset;
            int n = Math.Min(data.Length, _capacity - _runLength);
            data[..n].CopyTo(new Span<byte>(_filling + _runLength, n));
            _runLength += n;
            offset += n;
            data = data[n..];
            if (_runLength == _capacity)
                StartFlushRun();
        }
    }

    /// <summary>Discards [offset, offset+length): afterwards the range reads back as zeros.</summary>
    public void Discard(long offset, long length)
    {
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
        StartFlushRun();
        WaitInFlight();
    }

    private void StartFlushRun()
    {
        if (_runLength == 0)
            return;
        WaitInFlight();
        byte* buffer = _filling;
        _filling = _spare;
        _spare = buffer;
        long offset = _runOffset;
        int length = _runLength;
        _runLength = 0;
        BytesWritten += length;
        WriteCalls++;
        _inFlight = Task.Run(() => WriteRun(buffer, offset, length));
    }

    private void WaitInFlight()
    {
        if (_inFlight is null)
            return;
        int rc = _inFlight.GetAwaiter().GetResult();
        _inFlight = null;
        if (rc < 0)
            throw new IOException($"Error writing data to {Path}: {Libc.ErrorText(-rc)}");
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
        try { _inFlight?.Wait(); } catch (AggregateException) { /* reported by Sync when it matters */ }
        _inFlight = null;
        _buffered.Dispose();
        _direct?.Dispose();
        NativeMemory.AlignedFree(_filling);
        NativeMemory.AlignedFree(_spare);
        _filling = _spare = null;
    }
}
