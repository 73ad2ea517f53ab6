namespace FastLog.Tests.Support;

/// <summary>The fastlog CLI the tests run: env FASTLOG_BIN (scripts/test sets the NativeAOT build),
/// &lt;repo&gt;/bin/fastlog, or the apphost built next to the tests.</summary>
internal static class FastlogBinary
{
    private static readonly Lazy<string> Located = new(Locate);

    /// <summary>The CLI's path, located once.</summary>
    public static string Path => Located.Value;

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable("FASTLOG_BIN") is { Length: > 0 } env)
            return File.Exists(env) ? env : throw new InvalidOperationException($"FASTLOG_BIN={env} does not exist");
        string[] candidates =
        [
            System.IO.Path.Combine(Repository.Root, "bin", "fastlog"),
            System.IO.Path.Combine(AppContext.BaseDirectory, "fastlog"),
        ];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"fastlog binary not found (tried FASTLOG_BIN, {string.Join(", ", candidates)}); build src/FastLog.Cli");
    }
}
