namespace FastLog.Tests.Support;

/// <summary>The repository the tests run from (found upwards from the test binaries).</summary>
internal static class Repository
{
    /// <summary>The directory holding FastLog.sln and tests/vm.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "FastLog.sln")) && Directory.Exists(Path.Combine(d.FullName, "tests", "vm")))
                return d.FullName;
        throw new InvalidOperationException($"cannot find the repository root (FastLog.sln + tests/vm) above {AppContext.BaseDirectory}");
    }
}
