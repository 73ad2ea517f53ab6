using System.Runtime.InteropServices;

namespace FastLog.Interop.IoUring;

/// <summary>
/// struct io_uring_sqe, the 64-byte head of a submission entry. With SQE128 each entry is 128 bytes and the
/// command payload (<see cref="Command"/>, at offset 48) extends into the second half.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal unsafe struct IoUringSqe
{
    [FieldOffset(0)] public IoUringOp Opcode;
    [FieldOffset(1)] public byte Flags;
    [FieldOffset(2)] public ushort IoPriority;
    [FieldOffset(4)] public int Fd;
    /// <summary>File offset for READ/WRITE.</summary>
    [FieldOffset(8)] public ulong Offset;
    /// <summary>URING_CMD's command (overlays the low half of <see cref="Offset"/>; the next 4 bytes stay 0).</summary>
    [FieldOffset(8)] public uint CommandOp;
    [FieldOffset(16)] public ulong Address;
    [FieldOffset(24)] public uint Length;
    /// <summary>rw_flags / fsync_flags / uring_cmd_flags, by opcode.</summary>
    [FieldOffset(28)] public uint OpFlags;
    [FieldOffset(32)] public ulong UserData;
    [FieldOffset(40)] public ushort BufferIndex;
    [FieldOffset(42)] public ushort Personality;
    [FieldOffset(44)] public int SpliceFdIn;
    [FieldOffset(48)] public ulong Address3;
    /// <summary>First byte of the URING_CMD payload: 16 bytes in a 64-byte SQE, 80 with SQE128.</summary>
    [FieldOffset(48)] public fixed byte Command[16];
}

/// <summary>struct io_uring_cqe (16 bytes; FastLog never sets CQE32).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringCqe
{
    public ulong UserData;
    /// <summary>Result: bytes, a command's return value, or -errno.</summary>
    public int Result;
    public uint Flags;
}
