using FastLog.Capture;
using FastLog.Devices;
using FastLog.Tests.Support;

namespace FastLog.Tests.Devices;

/// <summary>What <see cref="LoggedDevice.Open"/> builds, on real files and a real loop device.</summary>
public sealed class LoggedDeviceTests
{
    /// <summary>A log device is opened O_DSYNC (each log write is a FUA write) only when a FLUSH waits for the log
    /// to be durable; at `ordered`, as dm-log-writes, the log's writes are plain writes synced in the background.</summary>
    [Theory]
    [InlineData(LogDurability.Durable, true)]
    [InlineData(LogDurability.Written, false)]
    [InlineData(LogDurability.Ordered, false)]
    public void A_log_device_is_written_through_only_when_flushes_wait_for_a_durable_log(LogDurability durability, bool writeThrough)
    {
        using var log = new LoopImage(8 << 20);
        string backing = log.File("backing.img");
        File.WriteAllBytes(backing, new byte[1 << 20]);
        using var device = LoggedDevice.Open(new DeviceOptions { Backing = backing, Log = log.Device, Frontend = FrontendKind.None, Durability = durability });
        Assert.Equal(writeThrough, device.Logging!.Log.IsWriteThrough);
        Assert.Equal(0, device.Backend.Write(0, new byte[4096], fua: true));
    }
}
