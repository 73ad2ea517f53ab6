using FastLog.Interop;

namespace FastLog.Workload;

/// <summary>
/// Appends records to a stress journal: each with one pwrite (so a record is in the page cache before the
/// operation it announces is issued, and a killed stress leaves at most one torn record at the end), and
/// <see cref="Sync"/> (fdatasync) after each promise. The journal must live outside the device under test.
/// </summary>
public sealed unsafe class StressJournalWriter : IDisposable
{
    private readonly int _fd;
    private long _length;

    private StressJournalWriter(string path, int fd)
    {
        Path = path;
        _fd = fd;
    }

    public string Path { get; }

    /// <summary>Creates (or truncates) <paramref name="path"/> and writes the header, durably.</summary>
    public static StressJournalWriter Create(string path, StressJournalHeader header)
    {
        int fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC | Libc.O_CLOEXEC, 0b110_100_100);
        if (fd < 0)
            throw new IOException($"{path}: cannot create the journal: {Libc.ErrorText(Libc.Errno)}");
        var writer = new StressJournalWriter(path, fd);
        try
        {
            Span<byte> bytes = stackalloc byte[StressJournalHeader.Size];
            header.WriteTo(bytes);
            writer.Append(bytes);
            writer.Sync();
        }
        catch
        {
            writer.Dispose();
            throw;
        }
        return writer;
    }

    public void Append(in StressJournalRecord record)
    {
        Span<byte> bytes = stackalloc byte[StressJournalRecord.Size];
        record.WriteTo(bytes);
        Append(bytes);
    }

    /// <summary>fdatasync: every record appended so far survives a crash of the host.</summary>
    public void Sync()
    {
        if (Libc.FDataSync(_fd) != 0)
            throw new IOException($"{Path}: fdatasync of the journal failed: {Libc.ErrorText(Libc.Errno)}");
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            int done = 0;
            while (done < bytes.Length)
            {
                nint n = Libc.PWrite(_fd, p + done, (nuint)(bytes.Length - done), _length + done);
                if (n < 0 && Libc.Errno == Libc.EINTR)
                    continue;
                if (n <= 0)
                    throw new IOException($"{Path}: appending to the journal at byte {_length + done} failed: {(n < 0 ? Libc.ErrorText(Libc.Errno) : "no progress")}");
                done += (int)n;
            }
        }
        _length += bytes.Length;
    }

    public void Dispose() => Libc.Close(_fd);
}
