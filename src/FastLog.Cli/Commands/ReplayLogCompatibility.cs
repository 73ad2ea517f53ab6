namespace FastLog.Cli.Commands;

/// <summary>
/// Lets xfstests call fastlog unchanged: through a symlink named <c>replay-log</c> the arguments are those of
/// <c>fastlog replay</c>, and replay's arguments get getopt_long treatment (prefixes, -vv).
/// </summary>
internal static class ReplayLogCompatibility
{
    public static string[] Rewrite(string[] args)
    {
        if (InvokedAs() == "replay-log")
            args = ["replay", .. args];
        if (args.Length > 0 && args[0] == "replay")
            args = ["replay", .. ReplayCommand.NormalizeArguments(args[1..])];
        return args;
    }

    /// <summary>argv[0]'s file name: the symlink's own name, not its target (which /proc/self/exe would give).</summary>
    private static string InvokedAs()
    {
        try
        {
            byte[] cmdline = File.ReadAllBytes("/proc/self/cmdline");
            int end = Array.IndexOf(cmdline, (byte)0);
            return Path.GetFileName(System.Text.Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end));
        }
        catch (IOException)
        {
            return Path.GetFileName(Environment.GetCommandLineArgs()[0]);
        }
    }
}
