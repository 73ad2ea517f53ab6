using System.Runtime.InteropServices;
using FastLog.Interop;

namespace FastLog.Backends;

/// <summary>
/// A regular file or a block device as the store. DISCARD punches a hole in a file (it reads back zeros)
/// and is BLKDISCARD on a device; WRITE_ZEROES is ZERO_RANGE / BLKZEROOUT.
/// </summary>
public sealed unsafe class FileBackend : IBlockBackend, IRingBackend
{
    private readonly int _fd;
    private int _disposed;

    private FileBackend(int fd, string path, long size, bool isBlockDevice, bool direct, int logicalBlockSize)
    {
        _fd = fd;
        Path = path;
        Size = size;
        IsBlockDevice = isBlockDevice;
        Direct = direct;
        // O_DIRECT refuses requests smaller than the store's direct I/O unit; through the page cache any sector works.
        int unit = direct ? DirectIoAlignment.Of(path) ?? 512 : 512;
        Capabilities = new DeviceCapabilities(Math.Max(logicalBlockSize, unit <= 512 ? 512 : 4096));
    }

    /// <summary>A cache (the page cache, the disk's) that fdatasync empties; FUA is RWF_DSYNC; DISCARD punches a
    /// hole or is BLKDISCARD (zeros where the device cannot); WRITE_ZEROES is ZERO_RANGE or BLKZEROOUT.</summary>
    public DeviceCapabilities Capabilities { get; }

    /// <summary>Opened O_DIRECT: buffers the frontends hand over are aligned; others go through <see cref="Bounce"/>.</summary>
    public bool Direct { get; }

    private const int DirectMemoryAlignment = 4096;

    [ThreadStatic] private static byte* t_bounce;
    [ThreadStatic] private static int t_bounceSize;

    /// <summary>
    /// An aligned buffer of this thread's for an O_DIRECT request whose memory is not aligned (an embedded caller's
    /// byte[]): O_DIRECT would refuse it with EINVAL. Grown as needed, kept for the thread's next request.
    /// </summary>
    private static byte* Bounce(int length)
    {
        if (t_bounceSize < length)
        {
            NativeMemory.AlignedFree(t_bounce);
            t_bounce = (byte*)NativeMemory.AlignedAlloc((nuint)length, DirectMemoryAlignment);
            t_bounceSize = length;
        }
        return t_bounce;
    }

    private bool NeedsBounce(byte* p) => Direct && ((nint)p & (DirectMemoryAlignment - 1)) != 0;

    public string Path { get; }
    internal int Fd => _fd;
    public long Size { get; }
    public bool IsBlockDevice { get; }

    /// <summary>
    /// Opens <paramref name="path"/> read-write. A regular file is used at its current size; an empty one is
    /// refused unless <paramref name="allowEmpty"/> (a replay target grows as it is written). A block device is
    /// opened O_EXCL unless <paramref name="exclusive"/> is false (a second fd of a device this process already
    /// holds): writing a mounted file system's device destroys it, so a busy device is refused
    /// (<see cref="StorageFile.Open"/>). <paramref name="role"/> names the file in errors.
    /// </summary>
    /// <param name="logicalBlockSize">The device's block size, 512 or 4096; declared larger where O_DIRECT needs it.</param>
    public static FileBackend Open(string path, bool direct = false, bool allowEmpty = false, bool exclusive = true, string role = "backing store",
        int logicalBlockSize = 512)
    {
        if (logicalBlockSize is not (512 or 4096))
            throw new ArgumentOutOfRangeException(nameof(logicalBlockSize), logicalBlockSize, "512 or 4096");
        int fd = StorageFile.Open(path, Libc.O_RDWR | (direct ? Libc.O_DIRECT : 0), role, out _, exclusive);
        try
        {
            (long size, bool isBlock) = SizeOf(fd, path);
            if (size <= 0 && !(allowEmpty && !isBlock))
                throw new IOException($"{path}: backing store is empty; create it with a size first (e.g. truncate -s 1G {path})");
            return new FileBackend(fd, path, size, isBlock, direct, logicalBlockSize);
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// Whether two paths name the same storage (one inode, or two nodes of one block device), following
    /// symlinks; false if either cannot be stat'ed. A path check alone misses a symlink or a second device node.
    /// </summary>
    public static bool AreSameFile(string path, string other) =>
        FileStatus.OfPath(path) is { } a && FileStatus.OfPath(other) is { } b && a.IsSameFileAs(b);

    internal static (long Size, bool IsBlockDevice) SizeOf(int fd, string path)
    {
        if (Libc.FStat(fd, out uint mode, out long size) != 0)
            throw new IOException($"{path}: fstat failed: {Libc.ErrorText(Libc.Errno)}");
        if ((mode & Libc.S_IFMT) != Libc.S_IFBLK)
            return (size, false);
        ulong bytes;
        if (Libc.Ioctl(fd, Libc.BLKGETSIZE64, &bytes) != 0)
            throw new IOException($"{path}: BLKGETSIZE64 failed: {Libc.ErrorText(Libc.Errno)}");
        return ((long)bytes, true);
    }

    public int Read(long offset, Span<byte> destination)
    {
        fixed (byte* caller = destination)
        {
            if (NeedsBounce(caller))
            {
                byte* bounce = Bounce(destination.Length);
                int rc = ReadInto(bounce, destination.Length, offset);
                if (rc == 0)
                    new ReadOnlySpan<byte>(bounce, destination.Length).CopyTo(destination);
                return rc;
            }
            return ReadInto(caller, destination.Length, offset);
        }
    }

    private int ReadInto(byte* p, int count, long offset)
    {
        long done = 0;
        while (done < count)
        {
            nint n = Libc.PRead(_fd, p + done, (nuint)(count - done), offset + done);
            if (n < 0)
            {
                int errno = Libc.Errno;
                if (errno == Libc.EINTR) continue;
                return -errno;
            }
            if (n == 0)
            {
                ZeroPastEnd(p + done, count - done);
                break;
            }
            done += n;
        }
        return 0;
    }

    /// <summary>
    /// The rest of a read that hit end of file: the device's size was fixed when it was opened, so a file that shrank
    /// since (someone truncated it) reads zeros there, as a hole does, on both the synchronous and the ring path.
    /// </summary>
    internal static void ZeroPastEnd(byte* data, long length) => new Span<byte>(data, checked((int)length)).Clear();

    public int Write(long offset, ReadOnlySpan<byte> source, bool fua)
    {
        fixed (byte* caller = source)
        {
            if (!NeedsBounce(caller))
                return WriteFrom(caller, source.Length, offset, fua);
            byte* bounce = Bounce(source.Length);
            source.CopyTo(new Span<byte>(bounce, source.Length));
            return WriteFrom(bounce, source.Length, offset, fua);
        }
    }

    private int WriteFrom(byte* p, int count, long offset, bool fua)
    {
        long done = 0;
        while (done < count)
        {
            nint n = Libc.PWrite(_fd, p + done, (nuint)(count - done), offset + done);
            if (n < 0)
            {
                int errno = Libc.Errno;
                if (errno == Libc.EINTR) continue;
                return -errno;
            }
            done += n;
        }
        return fua ? Flush() : 0;
    }

    public int Flush() => Libc.FDataSync(_fd) == 0 ? 0 : -Libc.Errno;

    public int Discard(long offset, long length)
    {
        if (!IsBlockDevice)
            return Libc.FAllocate(_fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, offset, length) == 0 ? 0 : -Libc.Errno;
        ulong* range = stackalloc ulong[2] { (ulong)offset, (ulong)length };
        if (Libc.Ioctl(_fd, Libc.BLKDISCARD, range) == 0)
            return 0;
        return WriteZeroes(offset, length); // a device that cannot discard still must not keep stale data visible
    }

    public int WriteZeroes(long offset, long length)
    {
        if (!IsBlockDevice)
            return Libc.FAllocate(_fd, Libc.FALLOC_FL_ZERO_RANGE | Libc.FALLOC_FL_KEEP_SIZE, offset, length) == 0 ? 0 : -Libc.Errno;
        ulong* range = stackalloc ulong[2] { (ulong)offset, (ulong)length };
        return Libc.Ioctl(_fd, Libc.BLKZEROOUT, range) == 0 ? 0 : -Libc.Errno;
    }

    IRingBackendQueue IRingBackend.OpenQueue(BackendRing ring, IRequestSink sink) => new FileRingQueue(this, ring, sink);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            Libc.Close(_fd);
    }
}
