using System.Security.Cryptography;
using FastLog.Tests.Support;

namespace FastLog.Tests.Guest;

/// <summary>
/// Boots the guest once, runs tests/vm/guest/dmlogwrites-workload.sh for ext4 and btrfs on data disks with
/// logical block size 512 and 4096 (the kernel's dm-log-writes target writes one log per case), and keeps
/// the data images, log images and what the guest recorded at every mark.
/// </summary>
public sealed class KernelLogsFixture : IDisposable
{
    public const long DataBytes = 256L << 20;
    public const long LogBytes = 512L << 20;
    public static readonly (string Fs, int Lbs)[] Cases = [("ext4", 512), ("ext4", 4096), ("btrfs", 512), ("btrfs", 4096)];

    public string Dir { get; }
    public GuestResult Guest { get; }

    public KernelLogsFixture()
    {
        GuestVm.EnsureAvailable();
        Dir = Directory.CreateTempSubdirectory("fastlog-kernel-xcheck.").FullName;
        var disks = new List<GuestDisk>();
        char snapDev = (char)('a' + 2 * Cases.Length);
        var script = new List<string>();
        char dev = 'a';
        foreach ((string fs, int lbs) in Cases)
        {
            string name = CaseName(fs, lbs);
            disks.Add(new GuestDisk(GuestVm.CreateSparseImage(DataImage(name), DataBytes), lbs));
            disks.Add(new GuestDisk(GuestVm.CreateSparseImage(LogImage(name), LogBytes), lbs));
            script.Add($"tests/vm/guest/dmlogwrites-workload.sh {fs} /dev/vd{dev} /dev/vd{(char)(dev + 1)} /out/{name} lw-{name} /dev/vd{snapDev}");
            dev = (char)(dev + 2);
            snapDev++;
        }
        // One snapshot disk per case, after the data/log pairs: copies of the data device at the "dev" marks.
        foreach ((string fs, int lbs) in Cases)
            disks.Add(new GuestDisk(GuestVm.CreateSparseImage(SnapImage(CaseName(fs, lbs)), 2 * DataBytes), lbs, Sparse: true));
        Guest = GuestVm.RunShell(string.Join("\n", script), disks, Path.Combine(Dir, "out"), TimeSpan.FromMinutes(12))
            .EnsureSuccess();
    }

    public static string CaseName(string fs, int lbs) => $"{fs}-{lbs}";
    public string DataImage(string name) => Path.Combine(Dir, name + ".data.img");
    public string LogImage(string name) => Path.Combine(Dir, name + ".log.img");
    public string SnapImage(string name) => Path.Combine(Dir, name + ".snap.img");

    /// <summary>sha256 of the whole data device as the guest saw it at a "dev" mark (NAME.dev, or its copy on the snapshot disk).</summary>
    public string DeviceSha256(string name, string mark)
    {
        string dev = Path.Combine(OutDir(name), mark + ".dev");
        if (File.Exists(dev))
            return File.ReadAllText(dev).Trim();
        long[] range = File.ReadAllText(Path.Combine(OutDir(name), mark + ".snap")).Split(' ').Select(long.Parse).ToArray();
        using var f = File.OpenRead(SnapImage(name));
        f.Position = range[0];
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        byte[] buf = new byte[1 << 20];
        for (long left = range[1]; left > 0;)
        {
            int n = f.Read(buf, 0, (int)Math.Min(buf.Length, left));
            if (n == 0) throw new EndOfStreamException($"{SnapImage(name)} too short");
            hash.AppendData(buf, 0, n);
            left -= n;
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
    public string OutDir(string name) => Path.Combine(Dir, "out", name);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("FASTLOG_KEEP_TEST_FILES") is not { Length: > 0 })
            try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// Kernel cross-check: FastLog replays logs written by the real kernel dm-log-writes target (in the guest)
/// and must reproduce, at every mark, exactly what the guest saw: the files' sha256 (fsynced files at fsync
/// marks, every file at sync marks), the whole device at the mkfs / umount / end marks, and a clean fsck.
/// Needs root (losetup, mount) on the host, qemu and the guest kernel (tests/vm/setup.sh), and the fastlog
/// binary (env FASTLOG_BIN, &lt;repo&gt;/bin/fastlog, or the build output next to the tests).
/// </summary>
[Collection(GuestVmCollection.Name)]
public sealed class KernelCrossCheckTests(KernelLogsFixture fx) : IClassFixture<KernelLogsFixture>
{
    [Theory]
    [InlineData("ext4", 512)]
    [InlineData("ext4", 4096)]
    [InlineData("btrfs", 512)]
    [InlineData("btrfs", 4096)]
    public void ReplayOfKernelLogMatchesGuestAtEveryMark(string fs, int lbs)
    {
        string name = KernelLogsFixture.CaseName(fs, lbs);
        string outDir = fx.OutDir(name);
        string log = fx.LogImage(name);
        string fastlog = FastlogBinary.Path;
        var info = File.ReadAllLines(Path.Combine(outDir, "info.txt"))
            .Select(l => l.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        Assert.Equal(lbs.ToString(System.Globalization.CultureInfo.InvariantCulture), info["lbs"]);
        Assert.DoesNotContain("logging_disabled", info["status"]);

        // The super block's sector size is the data device's logical block size.
        using (var f = File.OpenRead(log))
        {
            Span<byte> sb = stackalloc byte[28];
            f.ReadExactly(sb);
            Assert.Equal(0x6a736677736872UL, BitConverter.ToUInt64(sb[..8]));
            Assert.Equal(1UL, BitConverter.ToUInt64(sb[8..16]));
            Assert.Equal((uint)lbs, BitConverter.ToUInt32(sb[24..28]));
        }

        var marks = File.ReadAllLines(Path.Combine(outDir, "marks.txt"))
            .Where(l => l.Length > 0).Select(l => l.Split(' ')).Select(p => (Name: p[0], Kind: p[1])).ToList();
        Assert.Equal(["mkfs", "f1-fsync", "sync1", "f2-overwrite", "rename", "delete", "fstrim", "truncate", "umount"],
            marks.Select(m => m.Name));

        string work = Path.Combine(fx.Dir, "replay-" + name);
        Directory.CreateDirectory(work);
        string img = Path.Combine(work, "replay.img");
        foreach ((string mark, string kind) in marks)
        {
            string ctx = $"{name} mark '{mark}' ({kind})";
            GuestVm.CreateSparseImage(img, KernelLogsFixture.DataBytes);
            Replay(fastlog, log, img, mark, ctx);
            if (kind == "dev")
                Assert.True(fx.DeviceSha256(name, mark) == Sha256File(img),
                    $"{ctx}: whole-device sha256 of the replay differs from the guest's data device");
            CheckFiles(fs, lbs, img, outDir, mark, kind, ctx);
        }

        // The whole log (up to the target's final "dm-log-writes-end" mark, written by dmsetup remove) gives
        // the guest's final device, which is also the data image the guest left on the host.
        GuestVm.CreateSparseImage(img, KernelLogsFixture.DataBytes);
        Replay(fastlog, log, img, "dm-log-writes-end", $"{name} end mark");
        string end = Sha256File(img);
        Assert.True(fx.DeviceSha256(name, "umount") == end, $"{name}: replay to dm-log-writes-end != guest device at umount");
        Assert.True(Sha256File(fx.DataImage(name)) == end, $"{name}: replay to dm-log-writes-end != data image written by the guest");
    }

    internal static void Replay(string fastlog, string log, string img, string mark, string ctx)
    {
        (int rc, string output) = GuestVm.RunHost(fastlog, "replay", "--log", log, "--replay", img, "--end-mark", mark);
        Assert.True(rc == 0, $"{ctx}: fastlog replay --end-mark {mark} failed ({rc}):\n{output}");
    }

    private static void CheckFiles(string fs, int lbs, string img, string outDir, string mark, string kind, string ctx)
    {
        var expected = File.ReadAllLines(Path.Combine(outDir, mark + ".files")).Where(l => l.Length > 0)
            .Select(l => (Sha: l[..64], Path: l[66..])).ToList();
        string absentFile = Path.Combine(outDir, mark + ".absent");
        var absent = File.Exists(absentFile) ? File.ReadAllLines(absentFile).Where(l => l.Length > 0).ToList() : [];
        CheckImage(fs, lbs, img, expected, absent, exactFileSet: kind == "all", cleanBeforeMount: kind == "dev", ctx);
    }

    /// <summary>Attaches <paramref name="img"/> to a writable loop device, mounts it read-only (journal / log-tree
    /// recovery still runs), checks that the <paramref name="expected"/> files have those sha256s, that
    /// <paramref name="absent"/> paths do not exist and (if <paramref name="exactFileSet"/>) that no other regular
    /// file exists, unmounts, and requires a clean e2fsck -fn / btrfs check --readonly. btrfs is checked before
    /// the mount too (its on-disk state is always consistent), ext4 only when <paramref name="cleanBeforeMount"/>
    /// (no journal to recover: after mkfs / umount).</summary>
    internal static void CheckImage(string fs, int lbs, string img, IReadOnlyList<(string Sha, string Path)> expected,
        IReadOnlyList<string> absent, bool exactFileSet, bool cleanBeforeMount, string ctx)
    {
        using var attached = LoopImage.Attach(img, sectorSize: lbs);
        string loop = attached.Device;
        string mnt = Directory.CreateTempSubdirectory("fastlog-xcheck-mnt.").FullName;
        try
        {
            // A read-only mount still runs journal / log-tree recovery (the loop device is writable).
            if (fs == "btrfs" || cleanBeforeMount)
                Fsck(fs, loop, ctx + " before mount");
            Host("mount", "-t", fs, "-o", "ro", loop, mnt);
            try
            {
                foreach ((string sha, string path) in expected)
                {
                    string p = Path.Combine(mnt, path);
                    Assert.True(File.Exists(p), $"{ctx}: {path} missing after replay");
                    Assert.True(sha == Sha256File(p), $"{ctx}: {path} differs after replay");
                }
                foreach (string path in absent)
                    Assert.False(File.Exists(Path.Combine(mnt, path)), $"{ctx}: {path} exists after replay but was deleted/renamed");
                if (exactFileSet)
                {
                    var actual = Directory.EnumerateFiles(mnt, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                        .Select(p => Path.GetRelativePath(mnt, p)).Order(StringComparer.Ordinal).ToList();
                    Assert.Equal(expected.Select(e => e.Path).Order(StringComparer.Ordinal), actual);
                }
            }
            finally
            {
                Host("umount", mnt);
            }
            Fsck(fs, loop, ctx + " after mount + umount");
        }
        finally
        {
            if (fs == "btrfs")
                GuestVm.RunHost("btrfs", "device", "scan", "--forget", loop);
            Directory.Delete(mnt);
        }
    }

    private static void Fsck(string fs, string dev, string ctx)
    {
        (int rc, string output) = fs == "ext4"
            ? GuestVm.RunHost("e2fsck", "-fn", dev)
            : GuestVm.RunHost("btrfs", "check", "--readonly", dev);
        Assert.True(rc == 0, $"{ctx}: fsck not clean ({rc}):\n{output}");
    }

    private static string Host(string file, params string[] args)
    {
        (int rc, string output) = GuestVm.RunHost(file, args);
        if (rc != 0)
            throw new GuestVmException($"{file} {string.Join(' ', args)} failed ({rc}): {output}");
        return output;
    }

    internal static string Sha256File(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }
}
