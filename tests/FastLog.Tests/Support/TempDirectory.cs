namespace FastLog.Tests.Support;

/// <summary>
/// A real directory per test under the temp directory ($TMPDIR, else /tmp), deleted afterwards (no filesystem
/// mocks). A file system left mounted on its <c>mnt</c> subdirectory is unmounted (lazily) first.
/// </summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("fastlog-test-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Creates <paramref name="name"/> as a sparse file of <paramref name="size"/> bytes; returns its path.</summary>
    public string Sparse(string name, long size)
    {
        string path = File(name);
        using var stream = new FileStream(path, FileMode.CreateNew);
        stream.SetLength(size);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(File("mnt")))
            Shell.Run($"umount -l {File("mnt")} 2>/dev/null", 60);
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
