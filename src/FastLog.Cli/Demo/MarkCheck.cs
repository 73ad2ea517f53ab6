using System.Security.Cryptography;

namespace FastLog.Cli.Demo;

/// <summary>What should hold on the device at one mark: files with their contents, files gone, the whole device.</summary>
internal sealed record MarkExpectation(string Mark, List<(string Path, string Sha256)> Files, List<string> Absent, string? DeviceSha256);

/// <summary>
/// Replays a log to a mark onto a zeroed image with <c>fastlog replay</c>, as a user would, and checks the image
/// against an expectation: mounted (which replays the filesystem's journal, as a reboot would) and fsck'd.
/// </summary>
internal static class MarkCheck
{
    /// <summary>Prints one line for the mark and returns whether every check held.</summary>
    public static bool Run(string fastlog, string log, string image, long deviceBytes, MarkExpectation expected)
    {
        using (FileStream f = File.Create(image)) f.SetLength(deviceBytes);
        Shell.Show(fastlog, "replay", "--log", log, "--replay", image, "--end-mark", expected.Mark);
        string entry = Shell.Must(fastlog, "replay", "--log", log, "--find", "--end-mark", expected.Mark).Trim();
        var problems = new List<string>();
        if (expected.DeviceSha256 != null && Sha256(image) != expected.DeviceSha256)
            problems.Add("whole device differs");
        using (var mounted = new MountedImage(image))
        {
            foreach (var (path, sha) in expected.Files)
            {
                string full = Path.Combine(mounted.Root, path);
                if (!File.Exists(full)) problems.Add($"{path} missing");
                else if (Sha256(full) != sha) problems.Add($"{path} differs");
            }
            problems.AddRange(expected.Absent.Where(p => File.Exists(Path.Combine(mounted.Root, p))).Select(p => $"{p} should be gone"));
        }
        (int fsck, string fsckOutput) = Shell.Capture("e2fsck", "-fn", image);
        if (fsck != 0) problems.Add($"e2fsck -fn: {fsckOutput.Trim().Split('\n')[^1]}");
        string what = expected.DeviceSha256 != null ? "whole device"
            : $"{expected.Files.Count} files" + (expected.Absent.Count > 0 ? $", {expected.Absent.Count} gone" : "");
        string verdict = problems.Count == 0 ? $"{what} as written, fsck clean" : "FAILED: " + string.Join("; ", problems);
        Console.WriteLine($"   {expected.Mark,-18} entry {entry,-14} {verdict}");
        return problems.Count == 0;
    }

    public static string Sha256(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
