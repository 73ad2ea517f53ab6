using FastLog.Backends;
using FastLog.Frontends;
using FastLog.Frontends.Fuse;
using FastLog.Tests.Support;

namespace FastLog.Tests.Fuse;

[Collection("fuse")]
public class FuseFilesystemTests
{
    internal const string Workload = """
        set -e
        cd "$1"
        mkdir -p a b
        for i in $(seq 1 20); do
          dd if=/dev/urandom of=a/f$i bs=16k count=$((i % 7 + 1)) conv=fsync status=none
        done
        for i in $(seq 1 20 | shuf); do mv a/f$i b/g$i; done
        sync -f .
        for i in $(seq 1 20 2); do rm b/g$i; done
        dd if=/dev/urandom of=big bs=1M count=24 status=none
        fsync big 2>/dev/null || sync big
        mv big b/big2
        rm -f b/g2
        sync -f .
        test -f b/big2 && test -f b/g4 && ! test -e b/g3 && ! test -e b/g2
        cmp <(cat b/big2) b/big2
        """;

    public static TheoryData<string, string, string> FileSystems => new()
    {
        { "ext4", "mkfs.ext4 -q -F", "e2fsck -fn" },
        { "xfs", "mkfs.xfs -q -f", "xfs_repair -n" },
        { "btrfs", "mkfs.btrfs -q -f", "btrfs check" },
    };

    [Theory]
    [MemberData(nameof(FileSystems))]
    public void Mkfs_mount_workload_umount_fsck(string fs, string mkfs, string fsck)
    {
        using var dir = new TempDirectory();
        string backingPath = dir.Sparse("backing.img", 320L << 20);
        string device;
        using (var backing = FileBackend.Open(backingPath))
        using (var frontend = new FuseFrontend(backing, new FrontendOptions()))
        {
            device = frontend.Start();
            Assert.StartsWith("/dev/loop", device);
            Assert.True(frontend.UsesDirectIo, "loop did not take direct I/O on the FUSE file");
            File.WriteAllText(dir.File("workload.sh"), Workload);
            Shell.Check($"""
                set -e
                {mkfs} {device}
                mkdir -p {dir.Path}/mnt
                mount -t {fs} {device} {dir.Path}/mnt
                bash {dir.File("workload.sh")} {dir.Path}/mnt
                umount {dir.Path}/mnt
                """, 300);
            frontend.Stop();
            Assert.True(frontend.Completion.IsCompleted);
            Assert.Equal(0, frontend.Session!.UnexpectedErrors);
        }
        Shell.Check($"{fsck} {backingPath}", 300);
    }

    [Fact]
    public void The_served_file_answers_stat_readdir_statfs_fallocate_and_refuses_resizing()
    {
        using var dir = new TempDirectory();
        string backingPath = dir.File("backing.img");
        Shell.Check($"dd if=/dev/urandom of={backingPath} bs=1M count=8 status=none");
        using var backing = FileBackend.Open(backingPath);
        using var frontend = new FuseFrontend(backing, new FrontendOptions());
        frontend.Start();
        string file = frontend.FilePath!;
        string mnt = Path.GetDirectoryName(file)!;
        Assert.Equal("8388608 600 regular file", Shell.Check($"stat -c '%s %a %F' {file}").Trim());
        Assert.Contains("disk", Shell.Check($"ls -a {mnt}"));
        Shell.Check($"df {mnt}");
        Assert.NotEqual(0, Shell.Run($"truncate -s 1M {file}").Exit);
        Shell.Check($"""
            set -e
            fallocate --punch-hole --offset 4096 --length 8192 {file}
            fallocate --zero-range --keep-size --offset 65536 --length 4096 {file}
            dd if=/dev/zero bs=4096 count=1 status=none | tr '\0' 'x' | dd of={file} bs=4096 seek=100 oflag=direct conv=notrunc,fsync status=none
            """);
        byte[] bytes = File.ReadAllBytes(backingPath);
        Assert.Equal(8 << 20, bytes.Length);
        Assert.True(bytes.AsSpan(4096, 8192).IndexOfAnyExcept((byte)0) < 0, "punched range reads zeros");
        Assert.True(bytes.AsSpan(65536, 4096).IndexOfAnyExcept((byte)0) < 0, "zeroed range reads zeros");
        Assert.True(bytes.AsSpan(100 * 4096, 4096).IndexOfAnyExcept((byte)'x') < 0, "write through the FUSE file");
        Assert.NotEqual(0, bytes[0] | bytes[1] | bytes[2] | bytes[3]); // untouched data stays
        frontend.Stop();
        Assert.Equal(0, frontend.Session!.UnexpectedErrors);
    }
}
