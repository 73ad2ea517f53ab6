using System.Runtime.InteropServices;

namespace FastLog.Frontends.Fuse;

// The FUSE wire protocol as include/uapi/linux/fuse.h defines it (version 7; we answer with minor <= 38,
// which is all a one-file filesystem needs). Layouts are asserted in tests/FastLog.Tests/Fuse/FuseProtocolTests.cs.

internal static class FuseOpcode
{
    public const uint Lookup = 1, Forget = 2, GetAttr = 3, SetAttr = 4, Open = 14, Read = 15, Write = 16, StatFs = 17,
        Release = 18, FSync = 20, Flush = 25, Init = 26, OpenDir = 27, ReadDir = 28, ReleaseDir = 29, FSyncDir = 30,
        Access = 34, Interrupt = 36, Destroy = 38, BatchForget = 42, FAllocate = 43;
}

internal static class FuseConst
{
    public const uint KernelMajor = 7, MaxMinor = 38;
    public const ulong RootId = 1, FileId = 2;

    // fuse_init flags
    public const uint AsyncRead = 1u << 0, BigWrites = 1u << 5, AsyncDio = 1u << 15, ParallelDirops = 1u << 18,
        MaxPages = 1u << 22;

    // fuse_open_out.open_flags
    public const uint FOpenDirectIo = 1u << 0, FOpenKeepCache = 1u << 1, FOpenParallelDirectWrites = 1u << 6;

    // fuse_setattr_in.valid
    public const uint FAttrSize = 1u << 3;

    public const int FuseMinReadBuffer = 8192;

    /// <summary>_IOR(229, 0, uint32_t): attach a new /dev/fuse fd to the session of an existing one.</summary>
    public const ulong DevIocClone = 0x8004E500;

    public const uint SIfDir = 0x4000, SIfReg = 0x8000;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseInHeader
{
    public uint Len, Opcode;
    public ulong Unique, NodeId;
    public uint Uid, Gid, Pid;
    public ushort TotalExtLen, Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseOutHeader
{
    public uint Len;
    public int Error;
    public ulong Unique;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FuseInitIn
{
    public uint Major, Minor, MaxReadahead, Flags, Flags2;
    public fixed uint Unused[11];
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FuseInitOut
{
    public uint Major, Minor, MaxReadahead, Flags;
    public ushort MaxBackground, CongestionThreshold;
    public uint MaxWrite, TimeGran;
    public ushort MaxPages, MapAlignment;
    public uint Flags2;
    public fixed uint Unused[7];
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttr
{
    public ulong Ino, Size, Blocks, ATime, MTime, CTime;
    public uint ATimeNsec, MTimeNsec, CTimeNsec, Mode, NLink, Uid, Gid, RDev, BlkSize, Flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseEntryOut
{
    public ulong NodeId, Generation, EntryValid, AttrValid;
    public uint EntryValidNsec, AttrValidNsec;
    public FuseAttr Attr;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttrOut
{
    public ulong AttrValid;
    public uint AttrValidNsec, Dummy;
    public FuseAttr Attr;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseGetAttrIn
{
    public uint GetAttrFlags, Dummy;
    public ulong Fh;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseSetAttrIn
{
    public uint Valid, Padding;
    public ulong Fh, Size, LockOwner, ATime, MTime, CTime;
    public uint ATimeNsec, MTimeNsec, CTimeNsec, Mode, Unused4, Uid, Gid, Unused5;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseOpenIn
{
    public uint Flags, OpenFlags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseOpenOut
{
    public ulong Fh;
    public uint OpenFlags, Padding;
}

/// <summary>fuse_read_in and fuse_write_in share this layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseIoIn
{
    public ulong Fh, Offset;
    public uint Size, IoFlags;
    public ulong LockOwner;
    public uint Flags, Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseWriteOut
{
    public uint Size, Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseFSyncIn
{
    public ulong Fh;
    public uint FSyncFlags, Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseFAllocateIn
{
    public ulong Fh, Offset, Length;
    public uint Mode, Padding;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FuseKStatFs
{
    public ulong Blocks, BFree, BAvail, Files, FFree;
    public uint BSize, NameLen, FrSize, Padding;
    public fixed uint Spare[6];
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseReleaseIn
{
    public ulong Fh;
    public uint Flags, ReleaseFlags;
    public ulong LockOwner;
}

[StructLayout(LayoutKind.Sequential)]
internal struct FuseDirent
{
    public ulong Ino, Off;
    public uint NameLen, Type;
}
