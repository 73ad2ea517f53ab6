using FastLog.LogFormat;
using FastLog.Replay;
using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>
/// A LoggingBackend behind /dev/ublkbN in the guest kernel: an ext4 workload and fio verify run on the device, the
/// log goes to a second virtio disk, and afterwards replaying the log onto zeros (fastlog replay) must reproduce the
/// backing byte for byte, with the FLUSH and FUA requests ext4 sends visible in it.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class UblkLoggingTests
{
    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public void Logged_device_replays_to_a_byte_identical_backing(int logicalBlockSize)
    {
        const long backingBytes = 128L << 20;
        UblkGuest.RunOnFreshDisks($$"""
            ublk_capture /dev/vda {{logicalBlockSize}} 2 16 --log /dev/vdb
            mkfs.ext4 -q -F $DEV
            mount $DEV /mnt/t
            fs_workload /mnt/t 20
            umount /mnt/t
            fio --name=verify --filename=$DEV --ioengine=io_uring --direct=1 --rw=randwrite --bs=4k --iodepth=8 \
              --numjobs=2 --size=2M --offset=64M --offset_increment=4M --fsync=4 --verify=crc32c --verify_fatal=1 \
              --group_reporting > /tmp/fio.out 2>&1 || { cat /tmp/fio.out; exit 1; }
            ublk_stop
            echo "logged ok"
            """, [backingBytes, 512L << 20], TimeSpan.FromMinutes(10), disks =>
        {
            (byte[] replayed, int flushes, int fuaWrites) = Replay(disks[1], backingBytes);
            Assert.True(flushes > 0, "ext4 on a write-back device sends FLUSH; none was logged");
            Assert.True(fuaWrites > 0, "ext4 journal commits use FUA; no FUA write was logged");
            byte[] actual = File.ReadAllBytes(disks[0]);
            int firstDifference = replayed.AsSpan().CommonPrefixLength(actual);
            Assert.True(firstDifference == actual.Length, $"replayed log differs from the backing at byte {firstDifference}");
        });
    }

    /// <summary>
    /// Replays the log onto a zeroed image with FastLog's replay-log (LogReplayer), and counts the FLUSH and FUA
    /// entries with LogReader, which also checks the end mark the server writes when it stops.
    /// </summary>
    internal static (byte[] Image, int Flushes, int FuaWrites) Replay(string logPath, long size)
    {
        string target = Path.Combine(Path.GetDirectoryName(logPath)!, "replayed.img");
        GuestVm.CreateSparseImage(target, size);
        var output = new StringWriter();
        var replayer = new LogReplayer(new ReplayOptions { LogPath = logPath, ReplayPath = target }, output, output);
        Assert.True(replayer.Run() == 0, $"replay failed: {output}");

        int flushes = 0, fua = 0;
        string? lastMark = null;
        using (LogReader reader = LogReader.Open(logPath))
        {
            while (reader.TryReadNext(out LogEntry entry))
            {
                if (entry.Header.IsFlush) flushes++;
                if (entry.Header.IsFua) fua++;
                if (entry.Header.IsMark) lastMark = entry.MarkName;
            }
        }
        Assert.Equal(LogSuperBlock.EndMarkName, lastMark);
        return (File.ReadAllBytes(target), flushes, fua);
    }
}
