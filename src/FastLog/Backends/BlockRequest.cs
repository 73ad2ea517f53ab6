namespace FastLog.Backends;

internal enum BlockOp : byte
{
    Read,
    Write,
    Flush,
    Discard,
    WriteZeroes,
}

/// <summary>One request as a frontend hands it to a backend: a byte range (empty for FLUSH), FUA for writes.</summary>
internal readonly record struct BlockRequest(BlockOp Op, long Offset, long Length, bool Fua = false)
{
    /// <summary>
    /// Serves the request through the synchronous interface; <paramref name="buffer"/> holds <see cref="Length"/> bytes
    /// for READ and WRITE. Returns 0 or -errno and never throws: a frontend thread that dies leaves its requests hung.
    /// A backend's exception (a bug) fails the request with EIO and goes to <paramref name="threw"/>.
    /// </summary>
    public unsafe int ServeSync(IBlockBackend backend, byte* buffer, Action<BlockRequest, Exception>? threw = null)
    {
        try
        {
            return Op switch
            {
                BlockOp.Read => backend.Read(Offset, new Span<byte>(buffer, checked((int)Length))),
                BlockOp.Write => backend.Write(Offset, new ReadOnlySpan<byte>(buffer, checked((int)Length)), Fua),
                BlockOp.Flush => backend.Flush(),
                BlockOp.Discard => backend.Discard(Offset, Length),
                BlockOp.WriteZeroes => backend.WriteZeroes(Offset, Length),
                _ => -Interop.Libc.EOPNOTSUPP,
            };
        }
        catch (Exception e)
        {
            threw?.Invoke(this, e);
            return -Interop.Libc.EIO;
        }
    }
}
