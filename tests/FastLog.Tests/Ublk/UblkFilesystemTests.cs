using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>
/// ext4, xfs and btrfs on /dev/ublkbN served from a FileBackend over a virtio disk, in the guest kernel:
/// mkfs, mount, a write + fsync + rename + delete workload, umount; then a fresh server on the same backing
/// must show a clean fsck and the same file contents (the data reached the backing, not just a cache).
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class UblkFilesystemTests
{
    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public void Ext4_xfs_and_btrfs_survive_a_workload_and_a_server_restart(int logicalBlockSize)
    {
        GuestResult result = UblkGuest.RunOnFreshDisks($$"""
            lbs={{logicalBlockSize}}
            for fs in ext4 xfs btrfs; do
              echo "== $fs at $lbs"
              ublk_capture /dev/vda $lbs 2 32 --no-log
              test "$(blockdev --getss $DEV)" = $lbs
              test "$(cat /sys/block/${DEV#/dev/}/queue/write_cache)" = "write back"
              test "$(cat /sys/block/${DEV#/dev/}/queue/fua)" = 1
              case $fs in
                ext4) mkfs.ext4 -q -F $DEV ;;
                xfs) mkfs.xfs -q -f $DEV ;;
                btrfs) mkfs.btrfs -q -f $DEV ;;
              esac
              mount $DEV /mnt/t
              fs_workload /mnt/t 40
              sync -f /mnt/t/file.1
              (cd /mnt/t && sha256sum file.* > /tmp/sums)
              umount /mnt/t
              ublk_stop

              ublk_capture /dev/vda $lbs 1 8 --no-log
              case $fs in
                ext4) e2fsck -fn $DEV ;;
                xfs) xfs_repair -n $DEV ;;
                btrfs) btrfs check --readonly $DEV ;;
              esac
              mount $DEV /mnt/t
              (cd /mnt/t && sha256sum --quiet -c /tmp/sums)
              test "$(ls /mnt/t | grep -c '^file\.')" = 30
              umount /mnt/t
              ublk_stop
              echo "$fs ok"
            done
            no_hung_tasks
            """, [512L << 20], TimeSpan.FromMinutes(10));
        Assert.Contains("ext4 ok", result.StdOut);
        Assert.Contains("xfs ok", result.StdOut);
        Assert.Contains("btrfs ok", result.StdOut);
    }
}
