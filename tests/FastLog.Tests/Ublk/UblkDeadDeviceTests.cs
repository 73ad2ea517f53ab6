using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>
/// What a SIGKILLed capture leaves in the kernel and who removes it, on both guest kernels: the block device goes away
/// by itself (the writer fails, nothing hangs), but the ublk device (/dev/ublkc0, its id and the driver's state) stays,
/// because only the killed server would have sent DEL_DEV. The next capture deletes it before adding its own device,
/// says so (on 6.12 it gets id 0 again), and once it stops no ublk device is left.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class UblkDeadDeviceTests
{
    /// <remarks>The disk is 1 GiB (sparse) so that sigkill_under_load's writer is still writing when the kill comes: with 4 KiB blocks and no log it filled 256 MiB within its 2 s.</remarks>
    [Theory]
    [InlineData(GuestKernel.Debian612)]
    [InlineData(GuestKernel.Debian61)]
    public void The_next_capture_deletes_the_ublk_device_a_sigkilled_capture_left_behind(GuestKernel kernel)
    {
        GuestResult result = UblkGuest.RunOnFreshDisks("""
            ublk_capture /dev/vda 4096 1 8 --no-log
            test $DEV = /dev/ublkb0
            sigkill_under_load
            if [ -e /dev/ublkc0 ]; then echo "left by the kill: /dev/ublkc0"; fi
            ublk_capture /dev/vda 4096 1 8 --no-log
            echo "next capture: $DEV"
            grep -q "fastlog: deleted ublk device 0 " /tmp/serve.err || { echo "the next capture did not delete ublk device 0" >&2; cat /tmp/serve.err >&2; exit 1; }
            printf 'after-kill' | dd of=$DEV bs=4096 conv=sync,fsync,nocreat oflag=direct status=none
            ublk_stop
            test "$(head -c 10 /dev/vda)" = after-kill
            for _ in $(seq 100); do ls /dev/ublkc* >/dev/null 2>&1 || break; sleep 0.05; done
            if ls /dev/ublkc* >/dev/null 2>&1; then echo "ublk devices left: $(ls /dev/ublkc*)" >&2; exit 1; fi
            echo "dead device ok"
            """, [1L << 30], TimeSpan.FromMinutes(3), diskBlockSizes: [4096], kernel: kernel);
        Assert.Contains("dead device ok", result.StdOut);
        Assert.Contains("left by the kill: /dev/ublkc0", result.StdOut); // the kernel keeps it: this is why capture must delete it
        // 6.5+: the dead device goes before ADD_DEV, so its id is reused; before 6.5 only ADD_DEV tells which command
        // numbers the driver takes, so the dead device goes right after it.
        Assert.Contains(kernel == GuestKernel.Debian612 ? "next capture: /dev/ublkb0" : "next capture: /dev/ublkb1", result.StdOut);
    }
}
