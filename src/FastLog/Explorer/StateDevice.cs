using FastLog.Frontends;
using FastLog.Devices;
using FastLog.Interop;
using Microsoft.Win32.SafeHandles;

namespace FastLog.Explorer;

/// <summary>
/// One kernel block device that shows crash state after crash state (a <see cref="CrashStateBackend"/> behind one of
/// FastLog's frontends: ublk where the kernel has it, else a FUSE file with a loop device on it), without re-creating
/// the device per state.
/// </summary>
/// <remarks>
/// Why swapping is safe: a state is presented only between checks, when no one has the device open or mounted; the
/// frontends keep no cache of their own (ublk passes requests through, the FUSE file is served with direct I/O), and
/// <see cref="Present"/> first writes back and drops the block device's page cache (BLKFLSBUF), so nothing the kernel
/// read or wrote for the previous state is seen by the next one. Those last writes land in the previous state's
/// throwaway layer, which is then emptied.
/// </remarks>
public sealed class StateDevice : IDisposable
{
    private readonly CrashStateBackend _backend;
    private readonly IBlockFrontend _frontend;

    public StateDevice(string durableImagePath, SafeFileHandle log, string workDirectory, int blockSize, Action<string>? say = null)
    {
        _backend = new CrashStateBackend(durableImagePath, log, Path.Combine(workDirectory, "throwaway.img"), blockSize);
        try
        {
            (_frontend, DevicePath, FrontendName) = FrontendSelection.Start(_backend, FrontendKind.Auto, new FrontendOptions(), say);
        }
        catch
        {
            _backend.Dispose();
            throw;
        }
    }

    /// <summary>/dev/ublkbN or /dev/loopN.</summary>
    public string DevicePath { get; }

    /// <summary>"ublk" or "fuse".</summary>
    public string FrontendName { get; }

    internal CrashStateBackend Backend => _backend;

    public void Present(Overlay overlay)
    {
        DropKernelCache();
        _backend.Present(overlay);
    }

    private unsafe void DropKernelCache()
    {
        int fd = Libc.Open(DevicePath, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            throw new IOException($"{DevicePath}: cannot open to drop its page cache: {Libc.ErrorText(Libc.Errno)}");
        try
        {
            if (Libc.Ioctl(fd, Libc.BLKFLSBUF, null) != 0)
                throw new IOException($"{DevicePath}: BLKFLSBUF failed: {Libc.ErrorText(Libc.Errno)}");
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    public void Dispose()
    {
        _frontend.Dispose();
        _backend.Dispose();
    }
}
