using System.Buffers.Binary;
using FastLog.LogFormat;
using FastLog.Tests.Guest;

namespace FastLog.Tests.Ublk;

/// <summary>
/// A LoggingBackend behind /dev/ublkbN in the guest kernel: an ext4 workload and fio verify run on the device, the
/// log goes to a second virtio disk, and afterwards replaying the log onto zeros must reproduce the backing byte for
/// byte, with the FLUSH and FUA requests ext4 sends visible in it.
/// </summary>
[Collection(UblkGuest.Collection)]
public sealed class UblkLoggingTests
{
    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public void Logged_device_replays_to_a_byte_identical_backing(int logicalBlockSize)
    {
        string dir = Directory.CreateTempSubdirectory("fastlog-ublk-log.").FullName;
        try
        {
            const long backingBytes = 128L << 20;
            string backing = GuestVm.CreateSparseImage(Path.Combine(dir, "backing.img"), backingBytes);
            string log = GuestVm.CreateSparseImage(Path.Combine(dir, "log.img"), 512L << 20);
            GuestResult result = UblkGuest.Run($$"""
                ublk_serve /dev/vda {{logicalBlockSize}} 2 16 --log /dev/vdb
                mkfs.ext4 -q -F $DEV
                mount $DEV /mnt/t
                for i in $(seq 1 20); do
                  head -c $((i * 5003)) /dev/urandom > /mnt/t/tmp.$i
                  sync /mnt/t/tmp.$i
                  mv /mnt/t/tmp.$i /mnt/t/file.$i
                  if [ $((i % 3)) = 0 ]; then rm /mnt/t/file.$((i - 1)); fi
                done
                umount /mnt/t
                fio --name=verify --filename=$DEV --ioengine=io_uring --direct=1 --rw=randwrite --bs=4k --iodepth=8 \
                  --numjobs=2 --size=2M --offset=64M --offset_increment=4M --fsync=4 --verify=crc32c --verify_fatal=1 \
                  --group_reporting > /tmp/fio.out 2>&1 || { cat /tmp/fio.out; exit 1; }
                ublk_stop
                echo "logged ok"
                """, [new GuestDisk(backing), new GuestDisk(log)], TimeSpan.FromMinutes(10));
            result.EnsureSuccess();

            (byte[] replayed, int flushes, int fuaWrites) = Replay(log, backingBytes);
            Assert.True(flushes > 0, "ext4 on a write-back device sends FLUSH; none was logged");
            Assert.True(fuaWrites > 0, "ext4 journal commits use FUA; no FUA write was logged");
            byte[] actual = File.ReadAllBytes(backing);
            int firstDifference = replayed.AsSpan().CommonPrefixLength(actual);
            Assert.True(firstDifference == actual.Length, $"replayed log differs from the backing at byte {firstDifference}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Applies every entry of a dm-log-writes log to a zeroed image (log-format.md: entries from log sector 1, a header
    /// sector then nr_sectors of data; offsets in log sectors). Checks the end mark the server writes when it stops.
    /// </summary>
    private static (byte[] Image, int Flushes, int FuaWrites) Replay(string logPath, long size)
    {
        byte[] logBytes = File.ReadAllBytes(logPath);
        LogSuperBlock super = LogSuperBlock.Read(logBytes, logPath);
        int ss = (int)super.SectorSize;
        var image = new byte[size];
        long pos = ss;
        int flushes = 0, fua = 0;
        string? lastMark = null;
        for (ulong i = 0; i < super.EntryCount; i++)
        {
            ReadOnlySpan<byte> headerSector = logBytes.AsSpan((int)pos, ss);
            LogEntryHeader h = LogEntryHeader.ReadFrom(headerSector);
            pos += ss;
            if (h.IsMark)
                lastMark = LogEntryHeader.ReadMarkName(headerSector, h);
            else if (h.IsFlush && h.NrSectors == 0)
                flushes++;
            else if (h.IsDiscard)
                Array.Clear(image, (int)((long)h.Sector * ss), (int)((long)h.NrSectors * ss));
            else
            {
                int bytes = (int)((long)h.NrSectors * ss);
                logBytes.AsSpan((int)pos, bytes).CopyTo(image.AsSpan((int)((long)h.Sector * ss)));
                pos += bytes;
                if (h.IsFua) fua++;
                if (h.IsFlush) flushes++;
            }
        }
        Assert.Equal(LogSuperBlock.EndMarkName, lastMark);
        Assert.Equal(0ul, BinaryPrimitives.ReadUInt64LittleEndian(logBytes.AsSpan((int)pos))); // nothing after the last entry
        return (image, flushes, fua);
    }
}
