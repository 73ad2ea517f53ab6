namespace FastLog.Tests.Guest;

/// <summary>The guest harness itself: exit status, stdout/stderr, /out, cwd, disks with 512 / 4096 logical blocks,
/// dm devices (no udev), and the modules tests rely on. One boot.</summary>
[Collection(GuestVmCollection.Name)]
public sealed class GuestVmTests
{
    [Fact]
    public void GuestRunsCommandWithDisksAndReportsStatusOutputAndFiles()
    {
        string dir = Directory.CreateTempSubdirectory("fastlog-guestvm-test.").FullName;
        try
        {
            var disks = new[]
            {
                new GuestDisk(GuestVm.CreateSparseImage(Path.Combine(dir, "a.img"), 16 << 20), 512),
                new GuestDisk(GuestVm.CreateSparseImage(Path.Combine(dir, "b.img"), 16 << 20), 4096),
            };
            GuestResult r = GuestVm.RunShell("""
                echo "cwd=$PWD"
                echo "kernel=$(uname -r)"
                echo "ss=$(blockdev --getss /dev/vda),$(blockdev --getss /dev/vdb)"
                test -e /dev/ublk-control && echo ublk=yes
                test -e /dev/loop-control && echo loop=yes
                dmsetup create t --table "0 $(blockdev --getsz /dev/vdb) linear /dev/vdb 0"
                dmsetup mknodes
                printf guest-wrote-this | dd of=/dev/mapper/t oflag=direct bs=4096 conv=sync status=none
                dmsetup remove t
                echo hello > /out/result.txt
                echo to-stderr >&2
                exit 7
                """, disks, Path.Combine(dir, "out"), TimeSpan.FromMinutes(3), workingDirectory: "/usr/share");
            Assert.True(r.ExitCode == 7, $"exit {r.ExitCode}\n{r.StdOut}\n{r.StdErr}");
            foreach (string expected in new[] { "cwd=/usr/share\n", "kernel=6.12.", "ss=512,4096\n", "ublk=yes", "loop=yes" })
                Assert.Contains(expected, r.StdOut);
            Assert.Contains("to-stderr", r.StdErr);
            Assert.Equal("hello\n", File.ReadAllText(Path.Combine(r.OutDir, "result.txt")));
            byte[] head = new byte[16];
            using (var f = File.OpenRead(disks[1].ImagePath)) f.ReadExactly(head);
            Assert.Equal("guest-wrote-this", System.Text.Encoding.ASCII.GetString(head));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
