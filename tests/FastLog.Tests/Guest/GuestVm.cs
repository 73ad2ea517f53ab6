using System.Diagnostics;
using System.Text;
using FastLog.Tests.Support;

namespace FastLog.Tests.Guest;

/// <summary>A raw image attached to the guest as a virtio disk (/dev/vda, /dev/vdb, ... in order).</summary>
/// <param name="ImagePath">Host path of a raw image file (create it with <see cref="GuestVm.CreateSparseImage"/>).</param>
/// <param name="LogicalBlockSize">512 or 4096 (logical = physical block size of the virtio disk).</param>
/// <param name="Sparse">Zero writes punch holes in the image (qemu detect-zeroes=unmap); discards always do.</param>
public sealed record GuestDisk(string ImagePath, int LogicalBlockSize = 512, bool Sparse = false);

/// <summary>What a guest run produced.</summary>
/// <param name="ExitCode">The guest command's exit status; 124 = the VM timed out, 125 = the harness failed
/// (guest never reported a status; <see cref="StdErr"/> then holds the qemu log and the console tail).</param>
/// <param name="OutDir">Host directory that was mounted read-write at <c>/out</c> in the guest.</param>
public sealed record GuestResult(int ExitCode, string StdOut, string StdErr, string OutDir, TimeSpan Elapsed)
{
    public GuestResult EnsureSuccess()
    {
        if (ExitCode != 0)
            throw new GuestVmException($"guest command failed with exit status {ExitCode} after {Elapsed.TotalSeconds:F1} s\n--- stdout ---\n{Tail(StdOut)}\n--- stderr ---\n{Tail(StdErr)}");
        return this;
    }

    private static string Tail(string s) => s.Length <= 8000 ? s : "..." + s[^8000..];
}

public sealed class GuestVmException(string message) : Exception(message);

/// <summary>The kernels the guest boots, each prepared by tests/vm/setup.sh.</summary>
public enum GuestKernel
{
    /// <summary>Debian's 6.12: ublk with ioctl-encoded commands, dm-log-writes, dm-flakey.</summary>
    Debian612,

    /// <summary>Debian's 6.1 with ublk_drv built from its own source: ublk before encoded commands (6.0-6.3).</summary>
    Debian61,
}

/// <summary>Put every test class that boots the guest in this collection: its tests then run one at a time and
/// after the parallel ones, so TCG guests never compete with each other for the machine's 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GuestVmCollection
{
    public const string Name = "Guest VM";
}

/// <summary>
/// Runs commands inside a qemu (TCG) guest that boots Debian's 6.12 kernel (it has ublk, dm-log-writes,
/// dm-flakey, nbd), with the host's root file system shared read-only under a tmpfs overlay, so every
/// host tool and this repository are visible at the same paths. The command runs as root with the
/// current directory preserved (default: the repository root). Modules virtio_blk, loop, dm_mod,
/// dm_log_writes, dm_flakey and ublk_drv are preloaded and module auto-loading works. There is no udev:
/// after <c>dmsetup create</c> run <c>dmsetup mknodes</c>. A boot costs ~5 s of wall time.
/// Thin wrapper over tests/vm/run-guest.sh; prepare the machine once with tests/vm/setup.sh.
/// </summary>
public static class GuestVm
{
    public static string RunGuestScript => Path.Combine(Repository.Root, "tests", "vm", "run-guest.sh");

    /// <summary>Cache holding the guest kernel and initramfs (env FASTLOG_CACHE or &lt;repo&gt;/.cache/guest).</summary>
    public static string CacheDir =>
        Environment.GetEnvironmentVariable("FASTLOG_CACHE") is { Length: > 0 } c ? c : Path.Combine(Repository.Root, ".cache", "guest");

    /// <summary>Cache of the <see cref="GuestKernel.Debian61"/> guest (env FASTLOG_LEGACY_CACHE or &lt;repo&gt;/.cache/guest-6.1).</summary>
    public static string LegacyCacheDir =>
        Environment.GetEnvironmentVariable("FASTLOG_LEGACY_CACHE") is { Length: > 0 } c ? c : Path.Combine(Repository.Root, ".cache", "guest-6.1");

    private static string CacheOf(GuestKernel kernel) => kernel == GuestKernel.Debian61 ? LegacyCacheDir : CacheDir;

    /// <summary>Throws a <see cref="GuestVmException"/> saying what to do when qemu or the guest kernel is missing.
    /// Tests call this instead of skipping: CI runs tests/vm/setup.sh first, so missing pieces are a failure.</summary>
    public static void EnsureAvailable(GuestKernel kernel = GuestKernel.Debian612)
    {
        string cache = CacheOf(kernel);
        var missing = new List<string>();
        if (!OnPath("qemu-system-x86_64")) missing.Add("qemu-system-x86_64");
        foreach (string f in new[] { "vmlinuz", "initrd", "kernel-root" })
            if (!File.Exists(Path.Combine(cache, f)) && !Directory.Exists(Path.Combine(cache, f)))
                missing.Add(Path.Combine(cache, f));
        string setup = (kernel == GuestKernel.Debian61 ? "FASTLOG_GUEST_SERIES=6.1 " : "") + $"bash {Path.Combine(Repository.Root, "tests", "vm", "setup.sh")}";
        if (missing.Count > 0)
            throw new GuestVmException($"guest VM not prepared, missing: {string.Join(", ", missing)}. Run: {setup}");
    }

    /// <summary>Runs <paramref name="command"/> (argv) in a fresh guest.</summary>
    /// <param name="outDir">Host directory shared read-write as /out (created if needed); a new temp directory when null.</param>
    /// <param name="workingDirectory">Guest working directory (any host path); default the repository root.</param>
    public static GuestResult Run(IReadOnlyList<string> command, IEnumerable<GuestDisk>? disks = null, string? outDir = null,
        TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null,
        int memoryMiB = 2048, GuestKernel kernel = GuestKernel.Debian612)
    {
        EnsureAvailable(kernel);
        outDir ??= Directory.CreateTempSubdirectory("fastlog-guest-out.").FullName;
        Directory.CreateDirectory(outDir);
        var psi = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repository.Root,
        };
        psi.Environment["FASTLOG_CACHE"] = CacheOf(kernel);
        psi.ArgumentList.Add(RunGuestScript);
        foreach (GuestDisk d in disks ?? [])
        {
            if (d.LogicalBlockSize is not (512 or 4096))
                throw new ArgumentException($"logical block size must be 512 or 4096, got {d.LogicalBlockSize}");
            psi.ArgumentList.Add("--disk");
            psi.ArgumentList.Add($"{Path.GetFullPath(d.ImagePath)}:{d.LogicalBlockSize}{(d.Sparse ? ":sparse" : "")}");
        }
        psi.ArgumentList.Add("--out");
        psi.ArgumentList.Add(outDir);
        TimeSpan limit = timeout ?? TimeSpan.FromMinutes(10);
        psi.ArgumentList.Add("--timeout");
        psi.ArgumentList.Add(((int)Math.Ceiling(limit.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        psi.ArgumentList.Add("--mem");
        psi.ArgumentList.Add(memoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach ((string k, string v) in environment ?? new Dictionary<string, string>())
        {
            psi.ArgumentList.Add("--env");
            psi.ArgumentList.Add($"{k}={v}");
        }
        psi.ArgumentList.Add("--");
        foreach (string a in command)
            psi.ArgumentList.Add(a);

        var sw = Stopwatch.StartNew();
        using Process p = Process.Start(psi) ?? throw new GuestVmException("cannot start bash");
        p.StandardInput.Close();
        Task<string> so = p.StandardOutput.ReadToEndAsync();
        Task<string> se = p.StandardError.ReadToEndAsync();
        // run-guest.sh enforces the timeout itself; this is only a backstop.
        if (!p.WaitForExit(limit + TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new GuestVmException($"run-guest.sh did not finish within {limit}");
        }
        return new GuestResult(p.ExitCode, so.Result, se.Result, outDir, sw.Elapsed);
    }

    /// <summary>Runs a bash script in a fresh guest (see <see cref="Run"/>).</summary>
    public static GuestResult RunShell(string script, IEnumerable<GuestDisk>? disks = null, string? outDir = null,
        TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null,
        GuestKernel kernel = GuestKernel.Debian612) =>
        Run(["bash", "-euo", "pipefail", "-c", script], disks, outDir, timeout, environment, workingDirectory, kernel: kernel);

    /// <summary>Creates (or truncates to) a sparse zero-filled image file of <paramref name="bytes"/> bytes.</summary>
    public static string CreateSparseImage(string path, long bytes)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        fs.SetLength(bytes);
        return path;
    }

    /// <summary>Runs a host process, returning exit code and combined output (helper for host-side checks).</summary>
    public static (int ExitCode, string Output) RunHost(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        Process? started;
        try
        {
            started = Process.Start(psi);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new GuestVmException($"cannot run {file} ({e.Message}); tests/vm/setup.sh installs the host tools");
        }
        using Process p = started ?? throw new GuestVmException($"cannot start {file}");
        var sb = new StringBuilder();
        Task<string> so = p.StandardOutput.ReadToEndAsync();
        Task<string> se = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        sb.Append(so.Result).Append(se.Result);
        return (p.ExitCode, sb.ToString());
    }

    private static bool OnPath(string exe) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':')
            .Any(d => d.Length > 0 && File.Exists(Path.Combine(d, exe)));
}
