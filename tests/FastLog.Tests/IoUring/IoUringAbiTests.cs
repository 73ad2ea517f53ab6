using System.Runtime.CompilerServices;
using FastLog.Frontends.Ublk;
using FastLog.Interop.IoUring;

namespace FastLog.Tests.IoUring;

/// <summary>The managed mirrors of kernel structs have the kernel's sizes and offsets (the C helper's static_asserts agree).</summary>
public unsafe class IoUringAbiTests
{
    [Fact]
    public void Sizes_match_the_uapi_and_the_native_helper()
    {
        AssertSize<IoUringSqe>(64, NativeAbiStruct.IoUringSqe);
        AssertSize<IoUringCqe>(16, NativeAbiStruct.IoUringCqe);
        AssertSize<IoUringParams>(120, NativeAbiStruct.IoUringParams);
        AssertSize<UblksrvCtrlCmd>(32, NativeAbiStruct.UblksrvCtrlCmd);
        AssertSize<UblksrvCtrlDevInfo>(64, NativeAbiStruct.UblksrvCtrlDevInfo);
        AssertSize<UblksrvIoCmd>(16, NativeAbiStruct.UblksrvIoCmd);
        AssertSize<UblksrvIoDesc>(24, NativeAbiStruct.UblksrvIoDesc);
        AssertSize<UblkParams>(152, NativeAbiStruct.UblkParams);
    }

    private static void AssertSize<T>(int expected, NativeAbiStruct id) where T : unmanaged
    {
        Assert.Equal(expected, Unsafe.SizeOf<T>());
        Assert.Equal(expected, IoUringNative.AbiSize(id));
    }

    [Fact]
    public void Sqe_fields_sit_at_their_uapi_offsets()
    {
        IoUringSqe sqe;
        byte* b = (byte*)&sqe;
        Assert.Equal(1, (byte*)&sqe.Flags - b);
        Assert.Equal(4, (byte*)&sqe.Fd - b);
        Assert.Equal(8, (byte*)&sqe.CommandOp - b);
        Assert.Equal(16, (byte*)&sqe.Address - b);
        Assert.Equal(24, (byte*)&sqe.Length - b);
        Assert.Equal(28, (byte*)&sqe.OpFlags - b);
        Assert.Equal(32, (byte*)&sqe.UserData - b);
        Assert.Equal(48, sqe.Command - b);
    }

    [Fact]
    public void Params_ring_offsets_sit_at_their_uapi_offsets()
    {
        IoUringParams p;
        byte* b = (byte*)&p;
        Assert.Equal(20, (byte*)&p.Features - b);
        Assert.Equal(40, (byte*)&p.SqOff - b);
        Assert.Equal(80, (byte*)&p.CqOff - b);
        Assert.Equal(24, (byte*)&p.SqOff.Array - (byte*)&p.SqOff);
        Assert.Equal(20, (byte*)&p.CqOff.Cqes - (byte*)&p.CqOff);
    }

    [Fact]
    public void Ublk_struct_fields_sit_at_their_uapi_offsets()
    {
        UblksrvCtrlCmd cmd;
        Assert.Equal(6, (byte*)&cmd.Length - (byte*)&cmd);
        Assert.Equal(16, (byte*)&cmd.Data0 - (byte*)&cmd);
        Assert.Equal(24, (byte*)&cmd.DevPathLength - (byte*)&cmd);

        UblksrvCtrlDevInfo info;
        Assert.Equal(8, (byte*)&info.MaxIoBufBytes - (byte*)&info);
        Assert.Equal(12, (byte*)&info.DevId - (byte*)&info);
        Assert.Equal(16, (byte*)&info.UblksrvPid - (byte*)&info);
        Assert.Equal(24, (byte*)&info.Flags - (byte*)&info);
        Assert.Equal(40, (byte*)&info.OwnerUid - (byte*)&info);

        UblksrvIoCmd io;
        Assert.Equal(2, (byte*)&io.Tag - (byte*)&io);
        Assert.Equal(4, (byte*)&io.Result - (byte*)&io);
        Assert.Equal(8, (byte*)&io.Address - (byte*)&io);

        UblksrvIoDesc desc;
        Assert.Equal(4, (byte*)&desc.NrSectors - (byte*)&desc);
        Assert.Equal(8, (byte*)&desc.StartSector - (byte*)&desc);
        Assert.Equal(16, (byte*)&desc.Address - (byte*)&desc);

        UblkParams p;
        byte* b = (byte*)&p;
        Assert.Equal(8, (byte*)&p.Basic - b);
        Assert.Equal(12, (byte*)&p.Basic.LogicalBlockShift - b);
        Assert.Equal(16, (byte*)&p.Basic.MaxSectors - b);
        Assert.Equal(24, (byte*)&p.Basic.DeviceSectors - b);
        Assert.Equal(40, (byte*)&p.Discard - b);
        Assert.Equal(44, (byte*)&p.Discard.DiscardGranularity - b);
        Assert.Equal(52, (byte*)&p.Discard.MaxWriteZeroesSectors - b);
        Assert.Equal(56, (byte*)&p.Discard.MaxDiscardSegments - b);
    }

    [Fact]
    public void Commands_are_ioctl_encoded_with_a_legacy_nr_where_the_kernel_had_one()
    {
        Assert.Equal(0xC0207504u, UblkCommand.AddDev.Op(legacy: false));
        Assert.Equal(0x04u, UblkCommand.AddDev.Op(legacy: true));
        Assert.Equal(0x80207513u, UblkCommand.GetFeatures.Op(legacy: false));
        Assert.Equal(0x80207514u, UblkCommand.DelDevAsync.Op(legacy: false));
        Assert.Equal(0xC0107520u, UblkCommand.FetchReq.Op(legacy: false));
        Assert.Equal(0x21u, UblkCommand.CommitAndFetchReq.Op(legacy: true));
        Assert.Throws<NotSupportedException>(() => UblkCommand.GetFeatures.Op(legacy: true));
    }
}
