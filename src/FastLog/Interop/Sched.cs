using System.Runtime.InteropServices;

namespace FastLog.Interop;

/// <summary>Thread CPU affinity (the runtime only offers process-wide affinity).</summary>
internal static unsafe partial class Sched
{
    /// <summary>sched_setaffinity; pid 0 = the calling thread. Returns 0 or -1 with errno.</summary>
    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static partial int SetAffinity(int pid, nuint maskBytes, byte* mask);
}
