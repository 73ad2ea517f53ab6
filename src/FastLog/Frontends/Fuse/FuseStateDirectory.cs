using System.Globalization;
using FastLog.Interop;

namespace FastLog.Frontends.Fuse;

/// <summary>
/// Where a FUSE frontend keeps its mount point and what it attached: /run/fastlog/fuse/PID.SEQ/{mnt/, loop}.
/// A server killed with SIGKILL leaves this behind (its FUSE connection dies with its fds, so nothing blocks,
/// but the mount and possibly the loop device stay); the next start cleans it up.
/// </summary>
internal static class FuseStateDirectory
{
    public const string DefaultRoot = "/run/fastlog";
    private static int s_sequence;

    public static string Create(string root)
    {
        string dir = Path.Combine(root, "fuse", $"{Environment.ProcessId}.{Interlocked.Increment(ref s_sequence)}");
        Directory.CreateDirectory(Path.Combine(dir, "mnt"));
        return dir;
    }

    public static void RecordLoop(string dir, int number) =>
        File.WriteAllText(Path.Combine(dir, "loop"), number.ToString(CultureInfo.InvariantCulture));

    public static void Remove(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Cleans up what servers that no longer run left under <paramref name="root"/>; returns how many.</summary>
    public static int CleanupStale(string root, Action<string>? say)
    {
        string fuseRoot = Path.Combine(root, "fuse");
        if (!Directory.Exists(fuseRoot))
            return 0;
        int cleaned = 0;
        foreach (string dir in Directory.GetDirectories(fuseRoot))
        {
            string name = Path.GetFileName(dir);
            int dot = name.IndexOf('.');
            if (!int.TryParse(dot < 0 ? name : name[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                continue;
            if (Libc.ProcessExists(pid))
                continue;
            var done = new List<string>();
            string mnt = Path.Combine(dir, "mnt");

            // Abort first: any process still blocked on the dead server gets an error instead of waiting forever.
            foreach ((string mountPoint, uint connection) in FuseMount.MountsUnder(mnt))
            {
                if (FuseMount.Abort(connection))
                    done.Add($"aborted FUSE connection {connection}");
                int rc = FuseMount.UnmountLazy(mountPoint);
                done.Add(rc == 0 ? $"unmounted {mountPoint}" : $"umount {mountPoint}: {Libc.ErrorText(rc)}");
            }

            string loopFile = Path.Combine(dir, "loop");
            if (File.Exists(loopFile) && int.TryParse(File.ReadAllText(loopFile).Trim(), out int loop))
            {
                string? backing = LoopDevice.BackingFile(loop);
                if (backing is not null && backing.StartsWith(mnt, StringComparison.Ordinal))
                {
                    int rc = LoopDevice.Detach(loop);
                    done.Add(rc == 0
                        ? $"detached /dev/loop{loop}"
                        : $"/dev/loop{loop}: {Libc.ErrorText(rc)}");
                    if (LoopDevice.BackingFile(loop) is not null)
                        done.Add($"/dev/loop{loop} is still open (a filesystem mounted on it?): it detaches when closed; umount it");
                }
            }
            Remove(dir);
            cleaned++;
            say?.Invoke($"fastlog: cleaned up after a FUSE server that is gone (pid {pid}, {dir}): " +
                        (done.Count == 0 ? "nothing was left mounted" : string.Join("; ", done)));
        }
        return cleaned;
    }
}
