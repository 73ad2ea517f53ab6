using System.Diagnostics;
using FastLog.Frontends.Fuse;

namespace FastLog.Tests.Fuse;

/// <summary>The real CLI in a child process: capture, mark, teardown on SIGTERM, SIGKILL and clean-up.</summary>
[Collection("fuse")]
public class FuseCliTests
{
    private static readonly string Fastlog = Replay.Fastlog;

    private sealed class Capture : IDisposable
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _stderr = new();

        public Capture(string arguments)
        {
            var info = new ProcessStartInfo(Fastlog, "capture " + arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            _process = Process.Start(info)!;
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
            _process.BeginErrorReadLine();
            var line = _process.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result is null)
            {
                Kill();
                throw new Xunit.Sdk.XunitException($"capture printed no device: {Stderr}");
            }
            Device = line.Result;
        }

        public static string SocketFor(string device) => FastLog.Capture.MarkServer.PathFor(device)!;

        public string Device { get; }
        public int Pid => _process.Id;

        public string Stderr
        {
            get { lock (_stderr) return _stderr.ToString(); }
        }

        public int Terminate(int signal = 15, int timeoutSeconds = 30)
        {
            Shell.Check($"kill -{signal} {_process.Id}");
            if (!_process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
            {
                Kill();
                throw new TimeoutException($"capture did not stop on signal {signal}: {Stderr}");
            }
            _process.WaitForExit();
            return _process.ExitCode;
        }

        private void Kill()
        {
            try { _process.Kill(); } catch (InvalidOperationException) { }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                Kill();
                _process.WaitForExit(10_000);
            }
            _process.Dispose();
        }
    }

    [Fact]
    public void Capture_prints_the_device_takes_marks_and_stops_cleanly_on_sigterm()
    {
        using var dir = new Shell.TempDir();
        string backing = dir.Sparse("backing.img", 128L << 20);
        string log = dir.File("log");
        string device;
        using (var capture = new Capture($"--backing {backing} --log {log} --frontend fuse"))
        {
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
        Assert.DoesNotContain("/run/fastlog/fuse/", File.ReadAllText("/proc/self/mountinfo"));
        string replayed = dir.Sparse("replayed.img", 128L << 20);
        Replay.Apply(log, replayed);
        Replay.AssertIdentical(backing, replayed);
        Assert.True(Replay.HasMark(log, "after-mkfs"));
    }

    private static string Capture_socket(string device) => Capture.SocketFor(device);

    [Fact]
    public void Sigkill_mid_workload_leaves_nothing_stuck_and_the_next_capture_cleans_up()
    {
        using var dir = new Shell.TempDir();
        string backing = dir.Sparse("backing.img", 256L << 20);
        string log = dir.File("log");
        string mnt = dir.File("mnt");
        Directory.CreateDirectory(mnt);
        int killedPid;
        using (var capture = new Capture($"--backing {backing} --log {log} --frontend fuse"))
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
        using (var next = new Capture($"--backing {backing2} --no-log --frontend fuse"))
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
        string output = Replay.Apply(log, replayed, scan: true);
        Assert.True(Replay.Entries(log) > 0 || output.Contains("recovered"), output);
    }
}
