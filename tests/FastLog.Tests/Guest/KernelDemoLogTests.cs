using FastLog.Tests.Support;

namespace FastLog.Tests.Guest;

/// <summary>
/// The bundled tests/data/kernel-ext4-demo.log.zst (written by the kernel's dm-log-writes in the guest, see
/// tests/vm/make-demo-log.sh) replays with fastlog to what the guest recorded in kernel-ext4-demo.marks.
/// No VM needed; needs root (losetup, mount), zstd and e2fsck on the host.
/// </summary>
public sealed class KernelDemoLogTests
{
    [Fact]
    public void BundledKernelLogReplaysToWhatTheGuestSaw()
    {
        string data = Path.Combine(Repository.Root, "tests", "data");
        string dir = Directory.CreateTempSubdirectory("fastlog-demo-test.").FullName;
        try
        {
            string log = Path.Combine(dir, "demo.log");
            (int zrc, string zout) = GuestVm.RunHost("zstd", "-dqf", Path.Combine(data, "kernel-ext4-demo.log.zst"), "-o", log);
            Assert.True(zrc == 0, $"zstd -d failed: {zout}");
            var lines = File.ReadAllLines(Path.Combine(data, "kernel-ext4-demo.marks")).Where(l => l.Length > 0 && l[0] != '#')
                .Select(l => l.Split(' ', 2)).ToList();
            string fastlog = FastlogBinary.Path;
            string img = Path.Combine(dir, "replay.img");
            string[] marks = ["mkfs", "numbers-fsync", "sync1", "rename-delete", "umount", "dm-log-writes-end"];
            foreach (string mark in marks)
            {
                GuestVm.CreateSparseImage(img, 48L << 20);
                KernelCrossCheckTests.Replay(fastlog, log, img, mark, $"demo mark {mark}");
                if (mark is "umount" or "dm-log-writes-end")
                    Assert.Equal(lines.Single(l => l[0] == "umount-device")[1], KernelCrossCheckTests.Sha256File(img));
                var expected = lines.Where(l => l[0] == mark).Select(l => (Sha: l[1][..64], Path: l[1][66..])).ToList();
                KernelCrossCheckTests.CheckImage("ext4", 512, img, expected, [], exactFileSet: false,
                    cleanBeforeMount: mark is "mkfs" or "umount" or "dm-log-writes-end", $"demo mark {mark}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
