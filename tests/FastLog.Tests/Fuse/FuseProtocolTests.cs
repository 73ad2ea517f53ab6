using FastLog.Frontends.Fuse;

namespace FastLog.Tests.Fuse;

public unsafe class FuseProtocolTests
{
    [Fact]
    public void Struct_sizes_match_the_kernel_abi()
    {
        Assert.Equal(40, sizeof(FuseInHeader));
        Assert.Equal(16, sizeof(FuseOutHeader));
        Assert.Equal(64, sizeof(FuseInitIn));
        Assert.Equal(64, sizeof(FuseInitOut));
        Assert.Equal(88, sizeof(FuseAttr));
        Assert.Equal(128, sizeof(FuseEntryOut));
        Assert.Equal(104, sizeof(FuseAttrOut));
        Assert.Equal(16, sizeof(FuseGetAttrIn));
        Assert.Equal(88, sizeof(FuseSetAttrIn));
        Assert.Equal(8, sizeof(FuseOpenIn));
        Assert.Equal(16, sizeof(FuseOpenOut));
        Assert.Equal(40, sizeof(FuseIoIn));
        Assert.Equal(8, sizeof(FuseWriteOut));
        Assert.Equal(16, sizeof(FuseFSyncIn));
        Assert.Equal(32, sizeof(FuseFAllocateIn));
        Assert.Equal(80, sizeof(FuseKStatFs));
        Assert.Equal(24, sizeof(FuseReleaseIn));
        Assert.Equal(24, sizeof(FuseDirent));
        Assert.Equal(304, sizeof(LoopDevice.LoopConfig));
    }

    [Fact]
    public void Struct_field_offsets_match_the_kernel_abi()
    {
        FuseInitOut init = default;
        byte* b = (byte*)&init;
        Assert.Equal(16, (byte*)&init.MaxBackground - b);
        Assert.Equal(20, (byte*)&init.MaxWrite - b);
        Assert.Equal(28, (byte*)&init.MaxPages - b);
        FuseEntryOut entry = default;
        Assert.Equal(40, (byte*)&entry.Attr - (byte*)&entry);
        FuseAttr attr = default;
        Assert.Equal(60, (byte*)&attr.Mode - (byte*)&attr);
        LoopDevice.LoopConfig config = default;
        Assert.Equal(60, (byte*)&config.Flags - (byte*)&config);
    }
}
