using Microsoft.Win32.SafeHandles;

namespace FastLog.Interop;

/// <summary>Lends the raw fd of a SafeFileHandle to a libc call, keeping the handle alive for its duration.</summary>
internal static class FileDescriptor
{
    public static T With<T>(SafeFileHandle handle, Func<int, T> call)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return call((int)handle.DangerousGetHandle());
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }
}
