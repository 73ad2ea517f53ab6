using System.Diagnostics;
using FastLog.Frontends.Fuse;
using FastLog.Tests.Support;

namespace FastLog.Tests.Fuse;

/// <summary>The real CLI in a child process: capture, mark, teardown on SIGTERM, SIGKILL and clean-up.</summary>
[Collection("fuse")]
public class FuseCliTests
{
    private static readonly string Fastlog = FastlogBinary.Path;

    [Fact]
    public void Capture_prints_the_device_takes_marks_and_stops_cleanly_on_sigterm()
    {
        using var dir = new TempDirectory();
        string backing = dir.Sparse("backing.img", 128L << 20);
        string log = dir.File("log");
        string device;
        int pid;
        using (var capture = new CaptureProcess($"--backing {backing} --log {log} --frontend fuse"))
        {
            pid = capture.Pid;
            device = capture.Device;
            Assert.StartsWith("/dev/loop", device);
            Shell.Check($"mkfs.ext4 -q -F {device}");
            string socket = Capture_socket(device);
            Assert.Equal("600", Shell.Check($"stat -c %a {socket}").Trim());
            Shell.Check($"{Fastlog} mark {device} after-mkfs");
            // Only the owner: another uid cannot even connect (mode 0600; the server also checks SO_PEERCRED).
            // (open(2) of a socket checks permission first: EACCES for another uid, ENXIO for the owner.)
            (int exit, string denied) = Shell.Run($"setpriv --reuid=65534 --regid=65534 --clear-groups bash -c 'exec 3< {socket}'");
            Assert.NotEqual(0, exit);
            Assert.Contains("Permission denied", denied);
            Shell.Check($"dd if=/dev/urandom of={device} bs=1M count=8 seek=16 oflag=direct conv=fsync status=none");
            Assert.Equal(0, capture.Terminate(15));
            Assert.Contains("removed", capture.Stderr);
            Assert.False(File.Exists(socket));
        }
        // This capture's mount only: other captures may run on the machine.
        Assert.DoesNotContain($"/run/fastlog/fuse/{pid}.", File.ReadAllText("/proc/self/mountinfo"));
        string replayed = dir.Sparse("replayed.img", 128L << 20);
        FastlogReplay.Apply(log, replayed);
        FastlogReplay.AssertIdentical(backing, replayed);
        Assert.True(FastlogReplay.HasMark(log, "after-mkfs"));
    }

    private static string Capture_socket(string device) => CaptureProcess.SocketFor(device);

    [Fact]
    public void Sigkill_mid_workload_leaves_nothing_stuck_and_the_next_capture_cleans_up()
    {
        using var dir = new TempDirectory();
        string backing = dir.Sparse("backing.img", 256L << 20);
        string log = dir.File("log");
        string mnt = dir.File("mnt");
        Directory.CreateDirectory(mnt);
        int killedPid;
        using (var capture = new CaptureProcess($"--backing {backing} --log {log} --frontend fuse"))
        {
            killedPid = capture.Pid;
            Shell.Check($"mkfs.ext4 -q -F {capture.Device} && mount {capture.Device} {mnt}");
            File.WriteAllText(dir.File("workload.sh"), $$"""
                i=0
                while true; do
                  dd if=/dev/urandom of={{mnt}}/f$((i % 50)) bs=64k count=16 conv=fsync status=none || exit 0
                  mv {{mnt}}/f$((i % 50)) {{mnt}}/g$((i % 50)) || exit 0
                  i=$((i+1))
                done
                """);
            Shell.Check($"setsid bash {dir.File("workload.sh")} > /dev/null 2>&1 & echo $! > {dir.File("workload.pid")}");
            Thread.Sleep(2000);
            capture.Terminate(9);
        }
        // The workload sees errors instead of hanging: it must end on its own.
        string workloadPid = File.ReadAllText(dir.File("workload.pid")).Trim();
        Shell.Check($"for i in $(seq 1 60); do kill -0 {workloadPid} 2>/dev/null || exit 0; sleep 0.5; done; " +
                    $"ps -o pid,stat,wchan:30,cmd -p {workloadPid}; exit 1", 60);
        Shell.Check($"umount -l {mnt}", 30);
        Assert.Contains($"/run/fastlog/fuse/{killedPid}.", File.ReadAllText("/proc/self/mountinfo"));

        string backing2 = dir.Sparse("backing2.img", 64L << 20);
        using (var next = new CaptureProcess($"--backing {backing2} --no-log --frontend fuse"))
        {
            Assert.True(SpinWait.SpinUntil(() => next.Stderr.Contains($"pid {killedPid}"), 5000), next.Stderr);
            Assert.DoesNotContain($"/run/fastlog/fuse/{killedPid}.", File.ReadAllText("/proc/self/mountinfo"));
            Assert.Equal(0, next.Terminate(15));
        }
        Assert.DoesNotContain(Directory.EnumerateDirectories("/run/fastlog/fuse"), d => Path.GetFileName(d).StartsWith($"{killedPid}."));
        // Nothing left in uninterruptible sleep on our paths.
        string blocked = Shell.Check("ps -eo stat,pid,cmd | awk '$1 ~ /^D/' | grep -e fastlog -e dd -e loop || true");
        Assert.True(blocked.Trim().Length == 0, blocked);
        // The log reads back to its last complete entry, past a super block count the kill left stale.
        string replayed = dir.Sparse("replayed.img", 256L << 20);
        string output = FastlogReplay.Apply(log, replayed, scan: true);
        Assert.True(FastlogReplay.Entries(log) > 0 || output.Contains("recovered"), output);
    }
}
