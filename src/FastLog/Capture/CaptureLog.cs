using System.Diagnostics;
using System.Runtime.InteropServices;
using FastLog.Backends;
using FastLog.Interop;
using FastLog.LogFormat;

namespace FastLog.Capture;

/// <summary>
/// The capture pipeline: frontends' threads append records to a lock-free <see cref="CaptureRing"/>; the ring's
/// bytes go to a dm-log-writes v1 log with O_DIRECT and are made durable in groups, by whoever holds the appender
/// lock: a thread that waits for the log (a FLUSH or FUA) does the I/O itself, and a writer thread does it in the
/// background (every <see cref="CaptureLogOptions.WriterInterval"/> while bytes wait, or when <see cref="CaptureLogOptions.WakeBytes"/> are pending).
/// </summary>
/// <remarks>
/// Durability is told by monotonic log addresses: a record is in the log order once appended (its address is
/// fixed), written once <see cref="WrittenUntil"/> passes its end, durable once <see cref="DurableUntil"/> does.
/// <see cref="WaitFor"/> blocks until DurableUntil (or WrittenUntil) reaches an address; one fdatasync serves every
/// waiter below it. An fdatasync is issued only after every write below its address completed, and DurableUntil
/// never passes WrittenUntil.
/// A failed log write or a full log device fails every later append and wait with the errno; nothing is dropped
/// silently (unlike the kernel target, which passes I/O through unlogged).
/// </remarks>
public sealed unsafe partial class CaptureLog : IDisposable
{
    private readonly CaptureRing _ring;
    private readonly CaptureLogOptions _options;
    private readonly int _fd;
    private readonly long _logCapacity;
    private readonly bool _isRegularFile;
    private readonly LogAppender _appender;
    private readonly Thread _writer;
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly object _appenderLock = new(); // whoever holds it drives the appender: the writer or a waiter
    private bool _appenderClosed;
    private readonly LogWatchRegistry _watches = new();
    private long _writtenUntil, _durableUntil, _durableRequested, _writeRequested;
    private long _entries, _durableEntries, _superEntries;
    private int _writerSleeping, _failure;
    private long _writerNaps;
    private volatile bool _closing;
    private int _disposed;

    private CaptureLog(string path, int fd, int sectorSize, long logCapacity, bool isRegularFile, bool direct, bool writeThrough,
        CaptureLogOptions options)
    {
        Path = path;
        SectorSize = sectorSize;
        IsDirect = direct;
        IsWriteThrough = writeThrough;
        _fd = fd;
        _logCapacity = logCapacity;
        _isRegularFile = isRegularFile;
        _options = options;
        _ring = new CaptureRing(options.RingBytes, sectorSize, startAddress: sectorSize);
        _appender = new LogAppender(fd, path, _ring, preallocate: isRegularFile, writeThrough, new LogSuperBlock(0, (uint)sectorSize));
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "fastlog-log-writer" };
        _writer.Start();
    }

    public string Path { get; }
    public int SectorSize { get; }

    /// <summary>False where the log's filesystem refuses O_DIRECT (tmpfs): the page cache is used instead.</summary>
    public bool IsDirect { get; }

    /// <summary>
    /// True for a durable log on a block device: it is opened O_DSYNC, so each log write goes to the device with FUA
    /// and is durable when it completes, instead of a write and then a flush of the device's whole cache. That saves
    /// the fdatasync's round trip (the kernel runs it on an io-wq worker), and on a device with FUA, the flush itself.
    /// On a file, O_DSYNC could make the file system journal or flush after each write, so files keep fdatasync.
    /// </summary>
    public bool IsWriteThrough { get; }

    /// <summary>What a FLUSH or FUA write on the logged device waits for in this log (also how the log is opened: see
    /// <see cref="IsWriteThrough"/>); one setting, so the device and its log cannot disagree.</summary>
    public LogDurability FlushWaitsFor => _options.FlushWaitsFor;

    public long WrittenUntil => Volatile.Read(ref _writtenUntil);
    public long DurableUntil => Volatile.Read(ref _durableUntil);

    /// <summary>Entries durable in the log: the count the super block's nr_entries gets.</summary>
    public long EntriesDurable => Volatile.Read(ref _durableEntries);

    /// <summary>How many times the writer thread has slept (diagnostics: an idle writer should rarely wake).</summary>
    internal long WriterNaps => Volatile.Read(ref _writerNaps);

    /// <summary>Zero, or the negative errno that stopped the log.</summary>
    public int Failure => Volatile.Read(ref _failure);

    /// <summary>Why the log stopped, for the CLI; null while it works.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>Creates (truncates) a log file, or takes over a whole block device as the log.</summary>
    /// <param name="sectorSize">The log sector size: the logical block size of the logged device, as the kernel does.</param>
    public static CaptureLog Create(string path, int sectorSize, CaptureLogOptions? options = null)
    {
        options ??= new CaptureLogOptions();
        options.Validate();
        if (sectorSize is not (512 or 4096))
            throw new ArgumentOutOfRangeException(nameof(sectorSize), sectorSize, "log sector size must be 512 or 4096");
        if (string.IsNullOrEmpty(path))
            throw new IOException("the log path is empty: give the path of a regular file or a block device");
        bool direct = true;
        int fd = OpenOrCreate(path, direct);
        if (fd < 0 && Libc.Errno == Libc.EINVAL)
        {
            direct = false;
            fd = OpenOrCreate(path, direct);
        }
        if (fd < 0)
            throw Libc.Errno == Libc.EBUSY ? StorageFile.Busy(path, "log") : new IOException($"{path}: cannot open the log: {Libc.ErrorText(Libc.Errno)}");
        try
        {
            StorageFile.RequireRegularFileOrBlockDevice(fd, path, "log");
            (long size, bool isBlockDevice) = FileBackend.SizeOf(fd, path);
            bool writeThrough = isBlockDevice && direct && options.FlushWaitsFor == LogDurability.Durable;
            if (writeThrough)
            {
                // O_DSYNC cannot be switched on with fcntl: open the device again with it (exclusively, once the
                // first exclusive fd is closed).
                Libc.Close(fd);
                fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC | Libc.O_DIRECT | Libc.O_DSYNC | Libc.O_EXCL, 0);
                if (fd < 0)
                    throw new IOException($"{path}: cannot open the log device with O_DSYNC: {Libc.ErrorText(Libc.Errno)}");
            }
            if (!isBlockDevice && Libc.FTruncate(fd, 0) != 0)
                throw new IOException($"{path}: cannot truncate the log: {Libc.ErrorText(Libc.Errno)}");
            if (isBlockDevice && size < 2L * LogAppender.BlockSize)
                throw new IOException($"{path}: log device is too small ({size} bytes)");
            // A device's capacity counts whole blocks only: the appender writes whole 4 KiB blocks.
            return new CaptureLog(path, fd, sectorSize, isBlockDevice ? size & ~(long)(LogAppender.BlockSize - 1) : long.MaxValue,
                !isBlockDevice, direct, writeThrough, options);
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// Opens an existing log file or device, or creates the file. An existing block device is opened O_EXCL: one
    /// that is mounted or held is refused (EBUSY), and it is held against a mount while logging. (With O_CREAT,
    /// O_EXCL would mean "must not exist", so the create is a second call.) Returns -1 with errno set on failure.
    /// </summary>
    private static int OpenOrCreate(string path, bool direct)
    {
        int flags = Libc.O_RDWR | Libc.O_CLOEXEC | (direct ? Libc.O_DIRECT : 0);
        int fd = Libc.Open(path, flags | Libc.O_EXCL, 0);
        if (fd < 0 && Libc.Errno == Libc.ENOENT)
            fd = Libc.Open(path, flags | Libc.O_CREAT, 420);
        return fd;
    }

    /// <summary>Appends a write entry with its payload; returns its end address, or a negative errno.</summary>
    /// <remarks>Payloads larger than the ring allows are split into consecutive entries.
    /// An empty write is refused with -EINVAL: the log has no 0-sector write entry (replay-log reads one as corrupt).</remarks>
    public long AppendWrite(long byteOffset, ReadOnlySpan<byte> data, LogEntryFlags flags = LogEntryFlags.None) =>
        data.IsEmpty ? -Libc.EINVAL : AppendPayload(byteOffset, data.Length, data, flags);

    /// <summary>Appends a write entry whose payload is zeros (WRITE_ZEROES is logged as the data it leaves).</summary>
    public long AppendZeroes(long byteOffset, long length) =>
        length == 0 ? 0 : AppendPayload(byteOffset, length, ReadOnlySpan<byte>.Empty, LogEntryFlags.None);

    /// <summary>Write entries for <paramref name="length"/> bytes: copied from <paramref name="data"/>, or zeros when it is empty.</summary>
    private long AppendPayload(long byteOffset, long length, ReadOnlySpan<byte> data, LogEntryFlags flags)
    {
        if (byteOffset % SectorSize != 0 || length % SectorSize != 0)
            return -Libc.EINVAL;
        bool zeros = data.IsEmpty;
        long end = 0;
        int chunk = _ring.MaxRecord - SectorSize;
        do
        {
            int part = (int)Math.Min(chunk, length);
            if (!TryReserve(SectorSize + part, out long address, out int error))
                return error;
            _ring.Clear(address, zeros ? SectorSize + part : SectorSize);
            LogEntryHeader.Write((ulong)(byteOffset / SectorSize), (ulong)(part / SectorSize), flags).WriteTo(_ring.UnitAt(address));
            if (!zeros)
            {
                _ring.Write(address + SectorSize, data[..part]);
                data = data[part..];
            }
            end = Publish(address, SectorSize + part);
            byteOffset += part;
            length -= part;
        } while (length > 0);
        return end;
    }

    public long AppendDiscard(long byteOffset, long length)
    {
        if (byteOffset % SectorSize != 0 || length % SectorSize != 0)
            return -Libc.EINVAL;
        return AppendHeaderOnly(LogEntryHeader.Discard((ulong)(byteOffset / SectorSize), (ulong)(length / SectorSize)));
    }

    /// <summary>Appends a FLUSH entry; the flush enters the order here, when it arrives.</summary>
    public long AppendFlush() => AppendHeaderOnly(LogEntryHeader.Flush());

    /// <summary>The first entry of every log a <see cref="LoggingBackend"/> writes: a mark naming the device's size in bytes.</summary>
    public const string SizeMarkPrefix = "fastlog:size=";

    /// <summary>Appends a MARK entry. Names follow the kernel's rule: 1 to sectorsize-33 bytes.</summary>
    public long AppendMark(string name)
    {
        int max = LogEntryHeader.MaxMarkNameLength(SectorSize);
        int length = System.Text.Encoding.UTF8.GetByteCount(name);
        if (length == 0 || length > max)
            return -Libc.EINVAL;
        if (!TryReserve(SectorSize, out long address, out int error))
            return error;
        Span<byte> header = _ring.UnitAt(address);
        header.Clear();
        LogEntryHeader.WriteMark(header, name);
        return Publish(address, SectorSize);
    }

    /// <summary>Blocks until the log is durable (or only written) up to <paramref name="address"/>; 0, or the log's negative errno.</summary>
    /// <remarks>
    /// The waiter does the log's I/O itself under the appender lock (whoever holds it submits and reaps everything
    /// committed, so one write and one fdatasync serve every waiter below them): no hop to the writer thread and
    /// back. A waiter that finds the lock held waits for it, then finds its address reached or carries on.
    /// </remarks>
    public int WaitFor(long address, LogDurability durability)
    {
        if (durability == LogDurability.Ordered)
            return Volatile.Read(ref _failure);
        bool durable = durability == LogDurability.Durable;
        ref long reached = ref durable ? ref _durableUntil : ref _writtenUntil;
        if (Volatile.Read(ref reached) >= address)
            return 0;
        var spinner = new SpinWait();
        lock (_appenderLock)
            while (Volatile.Read(ref reached) < address && Volatile.Read(ref _failure) == 0 && !_appenderClosed)
            {
                if (!Pump(durable, wait: true, out _))
                    break;
                if (!_appender.Busy && Volatile.Read(ref reached) < address)
                    spinner.SpinOnce(); // a record below the address is still being copied by its producer
            }
        if (Volatile.Read(ref reached) >= address)
            return 0;
        int failure = Volatile.Read(ref _failure);
        return failure != 0 ? failure : -Libc.EIO; // closed under the waiter: cannot happen for an appended address
    }

    /// <summary>
    /// Starts bringing the log to <paramref name="durability"/> up to <paramref name="address"/> without waiting, so
    /// that a FLUSH syncs the backing store while the log is written or synced; <see cref="WaitFor"/> then waits for
    /// it. The caller submits the log write (and the log's fdatasync) itself when the appender is free; otherwise,
    /// or when something below the address is not committed yet, the writer thread is woken to do it.
    /// </summary>
    public void Request(long address, LogDurability durability) => Request(address, durability, startIo: true);

    /// <summary>
    /// Like <see cref="Request(long, LogDurability)"/>, but only the writer thread does the I/O: for a thread that learns
    /// of progress from a <see cref="LogWatch"/> and never calls <see cref="WaitFor"/>, so it must not leave I/O in
    /// flight for nobody to reap.
    /// </summary>
    internal void RequestFromWriter(long address, LogDurability durability) => Request(address, durability, startIo: false);

    private void Request(long address, LogDurability durability, bool startIo)
    {
        if (durability == LogDurability.Ordered)
            return;
        bool durable = durability == LogDurability.Durable;
        if (Volatile.Read(ref durable ? ref _durableUntil : ref _writtenUntil) >= address)
            return;
        ref long requested = ref durable ? ref _durableRequested : ref _writeRequested;
        long current;
        while ((current = Volatile.Read(ref requested)) < address)
            if (Interlocked.CompareExchange(ref requested, address, current) == current)
                break;
        if (startIo && Monitor.TryEnter(_appenderLock))
        {
            bool started;
            try
            {
                // In flight now: whoever pumps next (a waiter, or the writer within its interval) reaps it.
                started = !_appenderClosed && Pump(durable, wait: false, out _)
                    && (durable ? _appender.SyncRequestedUntil : _appender.SubmittedEnd) >= address;
            }
            finally
            {
                Monitor.Exit(_appenderLock);
            }
            if (started)
                return;
        }
        Interlocked.MemoryBarrier(); // publish the request before reading the writer's sleep flag
        WakeWriter();
    }

    /// <summary>True while a waiter wants more than the writer has done (the writer must not nap). Never after a
    /// failure: a request past a claim the failure abandoned can never be met, and the writer would spin on it.</summary>
    private bool Wanted() =>
        Volatile.Read(ref _failure) == 0
        && (Volatile.Read(ref _durableRequested) > Volatile.Read(ref _durableUntil)
            || Volatile.Read(ref _writeRequested) > Volatile.Read(ref _writtenUntil));

    private long AppendHeaderOnly(LogEntryHeader entry)
    {
        if (!TryReserve(SectorSize, out long address, out int error))
            return error;
        Span<byte> header = _ring.UnitAt(address);
        header.Clear();
        entry.WriteTo(header);
        return Publish(address, SectorSize);
    }

    private bool TryReserve(int length, out long address, out int error)
    {
        error = Volatile.Read(ref _failure);
        address = 0;
        if (error != 0)
            return false;
        if (_closing)
        {
            error = -Libc.EIO;
            return false;
        }
        if (!_ring.TryReserve(length, out address))
        {
            error = _ring.Failure;
            return false;
        }
        if (address + length > _logCapacity)
        {
            Fail(-Libc.ENOSPC, $"the log device {Path} is full ({_logCapacity} bytes); every later request fails");
            error = -Libc.ENOSPC;
            return false;
        }
        return true;
    }

    private long Publish(long address, int length)
    {
        _ring.Commit(address, length);
        // The commit mark is visible before anything below is read: the writer announces sleep, fences, then looks at
        // the mark (WriterLoop), so one of the two sees the other. Pending counts every claim, not this record's end:
        // records commit out of order, and the one that completes the committed prefix may sit low in it, after the
        // wakes of those above found the writer awake with nothing contiguous to write.
        Interlocked.MemoryBarrier();
        if (_ring.ReservedUntil - Volatile.Read(ref _writtenUntil) >= _options.WakeBytes)
            WakeWriter();
        return address + length;
    }

    private void WakeWriter()
    {
        if (Volatile.Read(ref _writerSleeping) != 0)
            _wake.Set();
    }

    /// <summary>Signals the <see cref="LogWatch"/>es whose address was reached (all of them once the log failed); called
    /// after every advance of <see cref="WrittenUntil"/> or <see cref="DurableUntil"/>, by the writer or a waiter, and on
    /// failure. (Waiters in <see cref="WaitFor"/> need no telling: they drive the I/O.)</summary>
    private void NotifyProgress() => _watches.SignalReached(Volatile.Read(ref _failure) != 0);

    /// <summary>True once the log is <paramref name="durability"/> up to <paramref name="address"/>.</summary>
    public bool Reached(long address, LogDurability durability) =>
        durability == LogDurability.Ordered || (durability == LogDurability.Durable ? Volatile.Read(ref _durableUntil) : Volatile.Read(ref _writtenUntil)) >= address;

    /// <summary>True once a wait for <paramref name="address"/> is over: the log reached it, or failed.</summary>
    internal bool Settled(long address, LogDurability durability) => Reached(address, durability) || Volatile.Read(ref _failure) != 0;

    /// <summary>A way to wait for the log without blocking, for a thread that drives an io_uring; dispose it to stop.</summary>
    internal LogWatch Watch(LogDurability durability)
    {
        var watch = new LogWatch(this, durability);
        _watches.Add(watch);
        return watch;
    }

    internal void Unwatch(LogWatch watch) => _watches.Remove(watch);

    private bool Ok(int rc)
    {
        if (rc < 0)
            Fail(rc, _appender.FailureReason ?? $"the log {Path} failed: {Libc.ErrorText(-rc)}");
        return rc >= 0;
    }

    private void Fail(int negativeErrno, string reason)
    {
        if (Interlocked.CompareExchange(ref _failure, negativeErrno, 0) != 0)
            return;
        FailureReason = reason;
        _ring.Fail(negativeErrno);
        NotifyProgress();
        _wake.Set();
    }

    /// <summary>
    /// Appends the kernel's closing mark <c>dm-log-writes-end</c>, writes out everything, refreshes nr_entries and
    /// makes the log durable. Appends racing with close fail with EIO.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        AppendMark(LogSuperBlock.EndMarkName);
        _closing = true;
        _wake.Set();
        _writer.Join();
        lock (_appenderLock)
        {
            _appender.Dispose();
            _appenderClosed = true;
        }
        if (_isRegularFile && Volatile.Read(ref _failure) == 0)
            Libc.FTruncate(_fd, _writtenUntil); // drop the zero padding of the last block
        Libc.Close(_fd);
        _ring.Dispose();
        _wake.Dispose();
    }
}
