using System.Diagnostics;
using FastLog.Tests.Guest;
using FastLog.Tests.Support;

namespace FastLog.Tests.Ublk;

/// <summary>
/// Runs ublk scenarios in the guest kernel (Debian 6.12, or 6.1 for the legacy commands) with a NativeAOT fastlog: the JIT
/// needs ~6 s to start under TCG. The binary is env FASTLOG_AOT_BIN, or published once per test run into
/// &lt;repo&gt;/out/guest-aot.
/// </summary>
internal static class UblkGuest
{
    private static readonly Lazy<string> Binary = new(PublishAot, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string GuestScripts => Path.Combine(Repository.Root, "tests", "FastLog.Tests", "Ublk", "guest");

    /// <summary>Runs <paramref name="script"/> (bash, -euo pipefail) with ublk-lib.sh sourced and $FASTLOG set.</summary>
    public static GuestResult Run(string script, IEnumerable<GuestDisk> disks, TimeSpan timeout, string? outDir = null,
        GuestKernel kernel = GuestKernel.Debian612)
    {
        GuestVm.EnsureAvailable(kernel);
        string prelude = $"source {Path.Combine(GuestScripts, "ublk-lib.sh")}\nmkdir -p /mnt/t\n";
        return GuestVm.RunShell(prelude + script, disks, outDir, timeout,
            new Dictionary<string, string> { ["FASTLOG"] = Binary.Value }, kernel: kernel);
    }

    /// <summary>
    /// Creates one sparse image per entry of <paramref name="diskBytes"/> (/dev/vda, /dev/vdb, ... with the logical
    /// block sizes in <paramref name="diskBlockSizes"/>, 512 where not given), runs <paramref name="script"/> on them,
    /// fails with the guest's output unless it exits 0, lets <paramref name="inspect"/> look at the images
    /// afterwards, and deletes them.
    /// </summary>
    public static GuestResult RunOnFreshDisks(string script, IReadOnlyList<long> diskBytes, TimeSpan timeout,
        Action<IReadOnlyList<string>>? inspect = null, IReadOnlyList<int>? diskBlockSizes = null,
        GuestKernel kernel = GuestKernel.Debian612)
    {
        string dir = Directory.CreateTempSubdirectory("fastlog-ublk-guest.").FullName;
        try
        {
            string[] images = diskBytes.Select((bytes, i) => GuestVm.CreateSparseImage(Path.Combine(dir, $"disk{i}.img"), bytes)).ToArray();
            GuestResult result = Run(script, images.Select((image, i) => new GuestDisk(image, diskBlockSizes?.ElementAtOrDefault(i) is > 0 and var lbs ? lbs : 512)), timeout, kernel: kernel).EnsureSuccess();
            inspect?.Invoke(images);
            return result;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string PublishAot()
    {
        if (Environment.GetEnvironmentVariable("FASTLOG_AOT_BIN") is { Length: > 0 } given)
            return File.Exists(given) ? given : throw new FileNotFoundException($"FASTLOG_AOT_BIN={given} does not exist");
        string outDir = Path.Combine(Repository.Root, "out", "guest-aot");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repository.Root,
        };
        foreach (string a in new[] { "publish", "src/FastLog.Cli", "-c", "Release", "-r", "linux-x64", "-o", outDir, "-nologo" })
            psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"dotnet publish (NativeAOT) failed:\n{stdout.Result}\n{stderr.Result}");
        return Path.Combine(outDir, "fastlog");
    }
}
