namespace FastLog.Cli.Torture;

/// <summary>How torture makes each filesystem (it checks them as explore does, <see cref="FastLog.Explorer.Checkers.FilesystemChecker.ReadOnlyCheck"/>).</summary>
internal static class FilesystemTools
{
    public static string Mkfs(string fs) => fs switch { "xfs" => "mkfs.xfs", "btrfs" => "mkfs.btrfs", _ => "mkfs.ext4" };

    public static string[] MkfsArguments(string fs, string device) => fs switch
    {
        "xfs" => ["-q", "-f", device],
        "btrfs" => ["-q", "-f", device],
        _ => ["-q", "-F", device],
    };
}

internal sealed class TortureException(string message) : Exception(message);
