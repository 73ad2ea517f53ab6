using System.Diagnostics;
using FastLog.Explorer;
using FastLog.Tests.Support;

namespace FastLog.Tests.Explorer;

/// <summary>A killed explore leaves a device-sized work directory behind; the next explore in that root removes it,
/// but never one of a live explorer, and never one with something still mounted under it.</summary>
public class ExploreWorkDirectoryTests
{
    [Fact]
    public void Work_directories_of_dead_explorers_are_removed_and_live_or_mounted_ones_kept()
    {
        using var dir = new TempDirectory();
        using (var exited = Process.Start("true")!)
        {
            exited.WaitForExit();
            string dead = Directory.CreateDirectory(dir.File($"fastlog-explore.{exited.Id}.abc")).FullName;
            File.WriteAllText(Path.Combine(dead, "durable.img"), "left by a killed explore");
            string live = Directory.CreateDirectory(dir.File($"fastlog-explore.{Environment.ProcessId}.def")).FullName;
            string mounted = Directory.CreateDirectory(dir.File($"fastlog-explore.{exited.Id}.ghi")).FullName;
            string mountPoint = Directory.CreateDirectory(Path.Combine(mounted, "mnt")).FullName;
            string unrelated = Directory.CreateDirectory(dir.File("fastlog-explore.notapid")).FullName;
            Shell.Check($"mount -t tmpfs none {mountPoint}");
            try
            {
                Assert.Equal(1, CrashExplorer.RemoveStaleWorkDirectories(dir.Path));
                Assert.False(Directory.Exists(dead));
                Assert.True(Directory.Exists(live));
                Assert.True(Directory.Exists(mountPoint));
                Assert.True(Directory.Exists(unrelated));
            }
            finally
            {
                Shell.Check($"umount {mountPoint}");
            }
            Assert.Equal(1, CrashExplorer.RemoveStaleWorkDirectories(dir.Path));
            Assert.False(Directory.Exists(mounted));
        }
    }
}
