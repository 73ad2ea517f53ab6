using System.Text.Json;
using FastLog.Tests.Support;

namespace FastLog.Tests.Explorer;

/// <summary>
/// The explorer against real filesystems: a workload captured live on FastLog's FUSE device, every state checked by
/// mounting it (the filesystem recovers its journal) and running the filesystem's own fsck.
/// </summary>
[Collection("fuse")]
public class ExploreFilesystemTests
{
    private static readonly string Fastlog = FastlogBinary.Path;

    /// <summary>
    /// Captures mkfs, then write + fsync + rename + delete rounds with a mark after each, mounted with
    /// <paramref name="mountOptions"/>; returns the log.
    /// </summary>
    internal static string CaptureWorkload(TempDirectory dir, string fs, string mountOptions, long size, int rounds = 6)
    {
        string backing = dir.Sparse($"{fs}.img", size);
        string log = dir.File($"{fs}.log");
        string mnt = dir.File("mnt");
        Directory.CreateDirectory(mnt);
        using var capture = new CaptureProcess($"--backing {backing} --log {log} --frontend fuse");
        string dev = capture.Device;
        string mkfs = fs switch { "xfs" => "mkfs.xfs -q -f", "btrfs" => "mkfs.btrfs -q -f", _ => "mkfs.ext4 -q -F" };
        Shell.Check($"{mkfs} {dev} && {Fastlog} mark {dev} mkfs");
        Shell.Check($"mount {(mountOptions.Length > 0 ? "-o " + mountOptions : "")} {dev} {mnt}");
        try
        {
            Shell.Check($$"""
                set -e
                for i in $(seq 1 {{rounds}}); do
                  head -c $((i * 12288)) /dev/urandom > {{mnt}}/tmp.$i
                  sync {{mnt}}/tmp.$i
                  mv {{mnt}}/tmp.$i {{mnt}}/file.$i
                  [ $i -le 2 ] || rm {{mnt}}/file.$((i - 2))
                  mkdir -p {{mnt}}/d$((i % 3)) && echo $i > {{mnt}}/d$((i % 3))/n && sync {{mnt}}/d$((i % 3))/n
                  {{Fastlog}} mark {{dev}} round-$i
                done
                """, 300);
        }
        finally
        {
            Shell.Run($"umount {mnt}");
        }
        Assert.Equal(0, capture.Terminate(15));
        return log;
    }

    internal static (int Exit, JsonDocument Summary, string Output) Explore(string log, string arguments)
    {
        (int exit, string output) = Shell.Run($"{Fastlog} explore --log {log} --check fs --after-mark mkfs --jobs 2 --json {arguments}", 900);
        int start = output.IndexOf("{\n", StringComparison.Ordinal);
        Assert.True(start >= 0, output);
        return (exit, JsonDocument.Parse(output[start..(output.LastIndexOf('}') + 1)]), output);
    }

    [Fact]
    public void Ext4_with_nobarrier_leaves_broken_states_and_with_barriers_none()
    {
        using var dir = new TempDirectory();
        string unsafeLog = CaptureWorkload(dir, "ext4", "nobarrier", 64L << 20);
        (int exit, JsonDocument summary, string output) = Explore(unsafeLog, "--strategy subsets --points end --budget 20 --minimize-budget 10");
        using (summary)
        {
            Assert.True(exit == 1, output);
            long failed = summary.RootElement.GetProperty("failed").GetInt64();
            Assert.True(failed > 0, output);
            JsonElement failure = summary.RootElement.GetProperty("failures")[0];
            Assert.Matches("e2fsck|mount", failure.GetProperty("output").GetString()!);
        }

        using var safeDir = new TempDirectory();
        string safeLog = CaptureWorkload(safeDir, "ext4", "", 64L << 20);
        (exit, summary, output) = Explore(safeLog, "--strategy prefix,subsets --budget 150");
        using (summary)
        {
            Assert.True(exit == 0, output);
            Assert.Equal(0, summary.RootElement.GetProperty("failed").GetInt64());
            Assert.True(summary.RootElement.GetProperty("checked").GetInt64() >= 30, output);
        }
    }

    /// <summary>
    /// No false alarms: default options, a write + fsync + rename + delete workload, every state of the default points
    /// under prefix, subsets and torn writes passes mount and fsck. Writes tear at 4 KiB, the filesystems' block size:
    /// at 512 bytes ext4's and btrfs's superblocks (written in place, with a checksum) do tear into unmountable states,
    /// which is what those filesystems do on a device that only writes 512 bytes atomically, not a modelling error.
    /// </summary>
    [Theory]
    [InlineData("ext4", 64L << 20)]
    [InlineData("xfs", 320L << 20)]
    [InlineData("btrfs", 320L << 20)]
    public void Default_filesystems_have_no_failing_state(string fs, long size)
    {
        using var dir = new TempDirectory();
        string log = CaptureWorkload(dir, fs, "", size);
        (int exit, JsonDocument summary, string output) = Explore(log, "--strategy prefix,subsets,torn --atomic-unit 4096 --budget 150");
        using (summary)
        {
            Assert.True(exit == 0, output);
            Assert.Equal(0, summary.RootElement.GetProperty("failed").GetInt64());
            Assert.True(summary.RootElement.GetProperty("checked").GetInt64() >= 100, output);
        }
    }

    /// <summary>
    /// `fastlog stress` on ext4 on FastLog's device, with a mark per acknowledged promise; the oracle then judges every
    /// state at those marks. A workload that skips every third fsync but records the promise is caught; the honest
    /// one with the same seed passes.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_oracle_catches_a_workload_that_skips_fsync_and_passes_an_honest_one(bool broken)
    {
        using var dir = new TempDirectory();
        string backing = dir.Sparse("ext4.img", 64L << 20);
        string log = dir.File("ext4.log"), journal = dir.File("stress.journal"), mnt = dir.File("mnt");
        Directory.CreateDirectory(mnt);
        using (var capture = new CaptureProcess($"--backing {backing} --log {log} --frontend fuse"))
        {
            string dev = capture.Device;
            Shell.Check($"mkfs.ext4 -q -F {dev} && {Fastlog} mark {dev} mkfs && mount {dev} {mnt}");
            try
            {
                Shell.Check($"{Fastlog} stress --dir {mnt} --journal {journal} --files 3 --file-size 256k --write-size 4k-16k " +
                            $"--fsync-ratio 0.3 --ops 60 --seed 7 --mark-device {dev}" + (broken ? " --skip-fsync-every 3" : ""), 120);
            }
            finally
            {
                Shell.Run($"umount {mnt}");
            }
            Assert.Equal(0, capture.Terminate(15));
        }
        (int exit, string output) = Shell.Run($"{Fastlog} explore --log {log} --check oracle={journal} --after-mark mkfs --points mark " +
                                              "--strategy prefix,subsets --budget 60 --minimize-budget 0 --jobs 2", 600);
        if (broken)
        {
            Assert.True(exit == 1, output);
            Assert.Contains("break promises", output);
            Assert.Matches(@"stress-\d", output);
        }
        else
            Assert.True(exit == 0, output);
    }
}
