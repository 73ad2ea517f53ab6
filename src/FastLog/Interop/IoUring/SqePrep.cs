namespace FastLog.Interop.IoUring;

/// <summary>Fills a zeroed SQE (as <see cref="IoUringRing.TryGetSqe"/> returns it) for one operation.</summary>
internal static unsafe class SqePrep
{
    public static void Nop(IoUringSqe* sqe, ulong userData)
    {
        sqe->Opcode = IoUringOp.Nop;
        sqe->UserData = userData;
    }

    public static void Read(IoUringSqe* sqe, int fd, void* buffer, uint length, long offset, ulong userData)
        => ReadWrite(sqe, IoUringOp.Read, fd, buffer, length, offset, userData);

    public static void Write(IoUringSqe* sqe, int fd, void* buffer, uint length, long offset, ulong userData)
        => ReadWrite(sqe, IoUringOp.Write, fd, buffer, length, offset, userData);

    public static void Writev(IoUringSqe* sqe, int fd, IoVec* iov, uint count, long offset, ulong userData)
        => ReadWrite(sqe, IoUringOp.Writev, fd, iov, count, offset, userData);

    public static void Fsync(IoUringSqe* sqe, int fd, bool dataOnly, ulong userData)
    {
        sqe->Opcode = IoUringOp.Fsync;
        sqe->Fd = fd;
        sqe->OpFlags = dataOnly ? IoUringConstants.FsyncDatasync : 0;
        sqe->UserData = userData;
    }

    /// <summary>IORING_OP_URING_CMD to <paramref name="fd"/>'s driver; returns the payload area to fill.</summary>
    public static byte* UringCommand(IoUringSqe* sqe, int fd, uint commandOp, ulong userData)
    {
        sqe->Opcode = IoUringOp.UringCmd;
        sqe->Fd = fd;
        sqe->CommandOp = commandOp;
        sqe->UserData = userData;
        return sqe->Command;
    }

    private static void ReadWrite(IoUringSqe* sqe, IoUringOp op, int fd, void* buffer, uint length, long offset, ulong userData)
    {
        sqe->Opcode = op;
        sqe->Fd = fd;
        sqe->Offset = (ulong)offset;
        sqe->Address = (ulong)buffer;
        sqe->Length = length;
        sqe->UserData = userData;
    }
}
