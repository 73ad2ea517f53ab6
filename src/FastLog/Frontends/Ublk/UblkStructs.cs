using System.Runtime.InteropServices;

namespace FastLog.Frontends.Ublk;

// The ublk UAPI structs (include/uapi/linux/ublk_cmd.h), little-endian, natural alignment. Sizes and offsets are
// ABI: native/fastlog_native.c static_asserts the same layout and the tests compare both sides.

/// <summary>struct ublksrv_ctrl_cmd (32 bytes): the payload of every control command (SQE128 command area).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct UblksrvCtrlCmd
{
    /// <summary>Target device; must equal the dev_info's dev_id in ADD_DEV (<see cref="UblkConstants.AutoDevId"/> = pick one).</summary>
    [FieldOffset(0)] public uint DevId;
    /// <summary><see cref="UblkConstants.NoQueue"/> unless the command is per queue (GET_QUEUE_AFFINITY).</summary>
    [FieldOffset(4)] public ushort QueueId;
    [FieldOffset(6)] public ushort Length;
    [FieldOffset(8)] public ulong Address;
    /// <summary>data[0]: START_DEV's server pid. 6.0–6.2 had data[2]; the first element is at the same place.</summary>
    [FieldOffset(16)] public ulong Data0;
    [FieldOffset(24)] public ushort DevPathLength;
    [FieldOffset(26)] public ushort Pad;
    [FieldOffset(28)] public uint Reserved;
}

/// <summary>struct ublksrv_ctrl_dev_info (64 bytes): what ADD_DEV asks for and the kernel negotiates.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct UblksrvCtrlDevInfo
{
    [FieldOffset(0)] public ushort NrHwQueues;
    [FieldOffset(2)] public ushort QueueDepth;
    [FieldOffset(4)] public ushort State;
    [FieldOffset(6)] public ushort Pad0;
    [FieldOffset(8)] public uint MaxIoBufBytes;
    [FieldOffset(12)] public uint DevId;
    [FieldOffset(16)] public int UblksrvPid;
    [FieldOffset(20)] public uint Pad1;
    /// <summary>UBLK_F_* feature flags; the kernel masks unknown ones and forces some, so use the returned value.</summary>
    [FieldOffset(24)] public ulong Flags;
    [FieldOffset(32)] public ulong UblksrvFlags;
    [FieldOffset(40)] public uint OwnerUid;
    [FieldOffset(44)] public uint OwnerGid;
    [FieldOffset(48)] public ulong Reserved1;
    [FieldOffset(56)] public ulong Reserved2;
}

/// <summary>struct ublksrv_io_cmd (16 bytes): the payload of FETCH_REQ / COMMIT_AND_FETCH_REQ.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct UblksrvIoCmd
{
    [FieldOffset(0)] public ushort QueueId;
    [FieldOffset(2)] public ushort Tag;
    /// <summary>COMMIT result: bytes for READ/WRITE, 0 for the others, or -errno.</summary>
    [FieldOffset(4)] public int Result;
    /// <summary>The tag's I/O buffer (copy mode): data source for WRITE, destination the kernel copies READ data from.</summary>
    [FieldOffset(8)] public ulong Address;
}

/// <summary>struct ublksrv_io_desc (24 bytes): one request, read-only, in the per-queue mmap'd array indexed by tag.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct UblksrvIoDesc
{
    /// <summary>Operation in bits 0–7 (<see cref="UblkIoOp"/>), flags in 8–31 (<see cref="UblkConstants.IoFlagFua"/>...).</summary>
    [FieldOffset(0)] public uint OpFlags;
    /// <summary>Length in 512-byte sectors, whatever the logical block size.</summary>
    [FieldOffset(4)] public uint NrSectors;
    [FieldOffset(8)] public ulong StartSector;
    [FieldOffset(16)] public ulong Address;

    public readonly UblkIoOp Op => (UblkIoOp)(OpFlags & 0xFF);
    public readonly bool Fua => (OpFlags & UblkConstants.IoFlagFua) != 0;
}

/// <summary>struct ublk_param_basic (32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct UblkParamBasic
{
    [FieldOffset(0)] public uint Attributes;
    [FieldOffset(4)] public byte LogicalBlockShift;
    [FieldOffset(5)] public byte PhysicalBlockShift;
    [FieldOffset(6)] public byte IoOptimalShift;
    [FieldOffset(7)] public byte IoMinimumShift;
    [FieldOffset(8)] public uint MaxSectors;
    [FieldOffset(12)] public uint ChunkSectors;
    [FieldOffset(16)] public ulong DeviceSectors;
    [FieldOffset(24)] public ulong VirtBoundaryMask;
}

/// <summary>struct ublk_param_discard (20 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 20)]
internal struct UblkParamDiscard
{
    [FieldOffset(0)] public uint DiscardAlignment;
    [FieldOffset(4)] public uint DiscardGranularity;
    [FieldOffset(8)] public uint MaxDiscardSectors;
    [FieldOffset(12)] public uint MaxWriteZeroesSectors;
    [FieldOffset(16)] public ushort MaxDiscardSegments;
    [FieldOffset(18)] public ushort Reserved0;
}

/// <summary>
/// struct ublk_params as of 7.x (152 bytes). Only basic and discard are set; the later members (devt@60,
/// zoned@76, dma_align@108, segment@120, integrity@136) stay zero. Sending all 152 bytes works on every kernel
/// because the kernel truncates <see cref="Length"/> to its own sizeof.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 152)]
internal struct UblkParams
{
    [FieldOffset(0)] public uint Length;
    /// <summary>UBLK_PARAM_TYPE_* bits saying which members are valid.</summary>
    [FieldOffset(4)] public uint Types;
    [FieldOffset(8)] public UblkParamBasic Basic;
    [FieldOffset(40)] public UblkParamDiscard Discard;
}
