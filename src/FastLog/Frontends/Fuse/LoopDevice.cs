using System.Runtime.InteropServices;
using FastLog.Interop;

namespace FastLog.Frontends.Fuse;

/// <summary>
/// A loop device attached with LOOP_CTL_GET_FREE + LOOP_CONFIGURE and LO_FLAGS_AUTOCLEAR. FastLog keeps one fd
/// on the device open for as long as it serves: when that last opener closes (Stop, or the server being killed),
/// the kernel detaches the device by itself once nobody else (a mounted filesystem) holds it.
/// </summary>
internal sealed unsafe class LoopDevice : IDisposable
{
    private const ulong LOOP_CTL_GET_FREE = 0x4C82, LOOP_CONFIGURE = 0x4C0A, LOOP_CLR_FD = 0x4C01;
    private const uint LO_FLAGS_AUTOCLEAR = 4, LO_FLAGS_DIRECT_IO = 16;
    private int _fd;

    private LoopDevice(int fd, int number, bool directIo)
    {
        _fd = fd;
        Number = number;
        DirectIo = directIo;
    }

    public int Number { get; }
    public string Path => $"/dev/loop{Number}";
    public bool DirectIo { get; }

    /// <summary>struct loop_config: fd, block_size, struct loop_info64 (232 bytes), __u64 reserved[8].</summary>
    [StructLayout(LayoutKind.Sequential, Size = 304)]
    internal struct LoopConfig
    {
        public uint Fd, BlockSize;
        public ulong Device, Inode, RDevice, Offset, SizeLimit;
        public uint Number, EncryptType, EncryptKeySize, Flags;
        public fixed byte FileName[64];
    }

    /// <summary>Attaches <paramref name="file"/>; tries direct I/O first when asked, then buffered.</summary>
    public static LoopDevice Attach(string file, int blockSize, bool directIo)
    {
        int control = Libc.Open("/dev/loop-control", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (control < 0)
            throw new IOException($"/dev/loop-control: {Libc.ErrorText(Libc.Errno)} (modprobe loop)");
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                int number = Libc.Ioctl(control, LOOP_CTL_GET_FREE, null);
                if (number < 0)
                    throw new IOException($"LOOP_CTL_GET_FREE: {Libc.ErrorText(Libc.Errno)}");
                string path = $"/dev/loop{number}";
                int device = -1;
                for (int i = 0; i < 50 && device < 0; i++) // devtmpfs creates the node; give it a moment
                {
                    device = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
                    if (device < 0) Thread.Sleep(20);
                }
                if (device < 0)
                    throw new IOException($"{path}: {Libc.ErrorText(Libc.Errno)}");
                int errno = Configure(device, file, blockSize, directIo, out bool usedDirect);
                if (errno == 0)
                    return new LoopDevice(device, number, usedDirect);
                Libc.Close(device);
                if (errno != Libc.EBUSY || attempt >= 20) // EBUSY: someone else took it between GET_FREE and here
                    throw new IOException($"LOOP_CONFIGURE {path} on {file}: {Libc.ErrorText(errno)}");
            }
        }
        finally
        {
            Libc.Close(control);
        }
    }

    private static int Configure(int device, string file, int blockSize, bool directIo, out bool usedDirect)
    {
        usedDirect = false;
        foreach (bool direct in directIo ? [true, false] : new[] { false })
        {
            int fileFd = Libc.Open(file, Libc.O_RDWR | Libc.O_CLOEXEC | (direct ? Libc.O_DIRECT : 0), 0);
            if (fileFd < 0)
            {
                int openErrno = Libc.Errno;
                if (direct && openErrno == Libc.EINVAL) continue;
                return openErrno;
            }
            LoopConfig config = default;
            config.Fd = (uint)fileFd;
            config.BlockSize = (uint)blockSize;
            config.Flags = LO_FLAGS_AUTOCLEAR | (direct ? LO_FLAGS_DIRECT_IO : 0);
            byte[] name = System.Text.Encoding.UTF8.GetBytes(file);
            for (int i = 0; i < Math.Min(name.Length, 63); i++) config.FileName[i] = name[i];
            int rc = Libc.Ioctl(device, LOOP_CONFIGURE, &config);
            int errno = rc == 0 ? 0 : Libc.Errno;
            Libc.Close(fileFd); // loop holds its own reference
            if (rc == 0)
            {
                usedDirect = direct && ReadSysfs(device) != false;
                return 0;
            }
            if (!(direct && errno == Libc.EINVAL))
                return errno;
        }
        return Libc.EINVAL;
    }

    private static bool? ReadSysfs(int device)
    {
        // /sys/block/loopN/loop/dio says whether the kernel really uses direct I/O; it may silently refuse.
        try
        {
            string link = File.ResolveLinkTarget($"/proc/self/fd/{device}", false)?.FullName ?? "";
            string dio = File.ReadAllText($"/sys/block/{System.IO.Path.GetFileName(link)}/loop/dio").Trim();
            return dio == "1";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Backing file of /dev/loopN as sysfs shows it, or null when the device is not attached.</summary>
    public static string? BackingFile(int number)
    {
        try { return File.ReadAllText($"/sys/block/loop{number}/loop/backing_file").Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Asks for detach of a device someone else attached (stale clean-up); deferred while it is open.</summary>
    public static int Detach(int number)
    {
        int fd = Libc.Open($"/dev/loop{number}", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            return Libc.Errno;
        int rc = Libc.Ioctl(fd, LOOP_CLR_FD, null) == 0 ? 0 : Libc.Errno;
        Libc.Close(fd);
        return rc;
    }

    /// <summary>Closes FastLog's fd: with autoclear the device detaches as soon as nobody else has it open.</summary>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.Ioctl(fd, LOOP_CLR_FD, null); // immediate when we are the only opener, deferred otherwise
            Libc.Close(fd);
        }
    }
}
