using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>
/// `fastlog torture` in the guest kernel, where capture serves the device over ublk (with real FUA writes): a
/// power-failed cycle of stress on ext4, xfs and btrfs recovers with every fsync promise kept and fsck clean.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class UblkTortureTests
{
    [Fact]
    public void Power_failed_cycles_on_ublk_recover_on_ext4_xfs_and_btrfs()
    {
        GuestResult result = UblkGuest.RunOnFreshDisks("""
            modprobe ublk_drv
            for fs in ext4 xfs btrfs; do
              "$FASTLOG" torture --fs $fs --cycles 1 --cycle-stress 4s --seed 3 --dir /tmp/torture-$fs > /tmp/t.out 2>&1
              status=$?
              cat /tmp/t.out
              echo "torture $fs exit $status"
            done
            """, [16L << 20], TimeSpan.FromMinutes(12));
        foreach (string fs in (string[])["ext4", "xfs", "btrfs"])
            Assert.True(result.StdOut.Contains($"torture {fs} exit 0"), $"{fs}:\n{result.StdOut}\n{result.StdErr}");
        Assert.Equal(3, result.StdOut.Split('\n').Count(l => l.StartsWith("cycle 1 on /dev/ublkb") && l.Contains("recovered, verify ok, fsck ok")));
    }
}
