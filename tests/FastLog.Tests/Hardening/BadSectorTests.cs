using FastLog.Tests.Guest;
using FastLog.Tests.Ublk;

namespace FastLog.Tests.Hardening;

/// <summary>
/// A backing device with a bad sector, in the guest kernel. The guest has no dm-dust (CONFIG_DM_DUST is not set in
/// Debian's 6.12), so its bad-block model is built from dm-flakey: one 4 KiB block of the backing device is a flakey
/// segment that fails every read (error_reads, always down), the rest is linear. A ublk capture on it fails that
/// block's read with EIO, serves every other request and logs the writes, and at exit names the backing store and
/// the first failed request.
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class BadSectorTests
{
    private const long DiskBytes = 64L << 20;
    private const long BadByte = 4L << 20;

    [Fact]
    public void A_bad_sector_on_the_backing_fails_its_read_names_the_device_and_the_rest_is_served_and_logged()
    {
        string dir = Directory.CreateTempSubdirectory("fastlog-badsector.").FullName;
        try
        {
            string backing = GuestVm.CreateSparseImage(Path.Combine(dir, "backing.img"), DiskBytes);
            string log = GuestVm.CreateSparseImage(Path.Combine(dir, "log.img"), DiskBytes);
            long bad = BadByte / 512, total = DiskBytes / 512;
            GuestResult result = UblkGuest.Run($$"""
                dmsetup create dusty <<TABLE
                0 {{bad}} linear /dev/vda 0
                {{bad}} 8 flakey /dev/vda {{bad}} 0 1 1 error_reads
                {{bad + 8}} {{total - bad - 8}} linear /dev/vda {{bad + 8}}
                TABLE
                dmsetup mknodes
                ublk_capture /dev/mapper/dusty 4096 1 8 --log /dev/vdb
                { yes good || true; } | head -c 4096 > /tmp/good
                dd if=/tmp/good of=$DEV bs=4096 count=1 oflag=direct conv=nocreat,notrunc status=none
                dd if=/tmp/good of=$DEV bs=4096 count=1 seek=$(({{BadByte}} / 4096)) oflag=direct conv=nocreat,notrunc status=none
                if dd if=$DEV of=/tmp/bad bs=4096 count=1 skip=$(({{BadByte}} / 4096)) iflag=direct status=none 2>/tmp/dd.err; then
                  echo "the bad sector read back fine" >&2; exit 1
                fi
                cat /tmp/dd.err
                dd if=$DEV of=/tmp/back bs=4096 count=1 iflag=direct status=none
                cmp /tmp/good /tmp/back
                no_hung_tasks
                kill -TERM $SERVER
                rc=0; wait $SERVER || rc=$?
                cat /tmp/serve.err
                echo "capture exit $rc"
                dmsetup remove dusty
                echo "bad sector ok"
                """, [new GuestDisk(backing, 4096), new GuestDisk(log, 4096)], TimeSpan.FromMinutes(3)).EnsureSuccess();

            string said = result.StdOut + result.StdErr;
            Assert.Contains("bad sector ok", result.StdOut);
            Assert.Contains("Input/output error", said);
            Assert.Contains("capture exit 1", result.StdOut); // a backing failure is the run's failure
            Assert.Contains("fastlog capture: the backing store /dev/mapper/dusty failed", said);
            Assert.Contains($"read of 4096 bytes at byte {BadByte}: Input/output error", said);
            // Both writes are in the log, the one to the bad block too (a bad block fails reads only).
            string image = GuestVm.CreateSparseImage(Path.Combine(dir, "replayed.img"), DiskBytes);
            Fuse.Shell.Check($"{Refusal.Fastlog} replay --log {log} --replay {image}");
            byte[] good = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("good\n", 820)))[..4096];
            using var replayed = File.OpenRead(image);
            foreach (long offset in new[] { 0, BadByte })
            {
                var block = new byte[4096];
                replayed.Position = offset;
                replayed.ReadExactly(block);
                Assert.True(block.AsSpan().SequenceEqual(good), $"the write at byte {offset} is not in the log");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
