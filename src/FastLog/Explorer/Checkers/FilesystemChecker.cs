using System.Buffers.Binary;
using FastLog.Interop;

namespace FastLog.Explorer.Checkers;

/// <summary>
/// <c>--check fs</c>: finds the filesystem on the state (ext2/3/4, xfs, btrfs, by superblock magic), mounts it so it
/// recovers its journal or log (its writes go to the state's throwaway layer), unmounts, then runs the filesystem's
/// own checker read-only: <c>e2fsck -fn</c>, <c>xfs_repair -n</c>, <c>btrfs check --readonly</c>. A state fails if
/// no filesystem is found, the mount fails, or the checker reports damage.
/// </summary>
public sealed class FilesystemChecker : IStateChecker
{
    public string Name => "fs";

    private static readonly (string Type, string Tool, string[] Arguments)[] Tools =
    [
        ("ext4", "e2fsck", ["-fn"]),
        ("xfs", "xfs_repair", ["-n"]),
        ("btrfs", "btrfs", ["check", "--readonly"]),
    ];

    /// <summary>The filesystem's own checker, read-only, for a device holding <paramref name="type"/> (exit 0: nothing found).</summary>
    public static (string Tool, string[] Arguments) ReadOnlyCheck(string type, string device)
    {
        (string _, string tool, string[] arguments) = Tools.First(t => t.Type == type);
        return (tool, [.. arguments, device]);
    }

    public void EnsureAvailable()
    {
        if (Libc.GetEUid() != 0)
            throw new CheckerUnavailableException("--check fs mounts each state: run as root");
        if (!Tools.Any(t => ProcessRunner.OnPath(t.Tool)))
            throw new CheckerUnavailableException("--check fs needs e2fsck, xfs_repair or btrfs on PATH (e2fsprogs, xfsprogs, btrfs-progs)");
    }

    /// <summary>The filesystem type whose superblock magic the state shows, or null.</summary>
    public static string? Detect(ReadBytes read)
    {
        Span<byte> sb = stackalloc byte[512];
        if (read(1024, sb) == 0 && BinaryPrimitives.ReadUInt16LittleEndian(sb[56..]) == 0xEF53)
            return "ext4"; // ext2 and ext3 mount as ext4 too
        if (read(0, sb) == 0 && sb[..4].SequenceEqual("XFSB"u8))
            return "xfs";
        if (read(65536, sb) == 0 && sb.Slice(64, 8).SequenceEqual("_BHRfS_M"u8))
            return "btrfs";
        return null;
    }

    public CheckOutcome Check(CheckContext context)
    {
        StateMount? mount = StateMount.TryMount(context, out string failure);
        if (mount is null)
            return CheckOutcome.Fail(failure);
        (string tool, string[] arguments) = ReadOnlyCheck(mount.Type, context.Device);
        if (!ProcessRunner.OnPath(tool))
            throw new CheckerUnavailableException($"the state holds {mount.Type}, but {tool} is not on PATH");
        int umount = mount.Unmount();
        if (umount != 0)
            return CheckOutcome.Fail($"umount failed: {Libc.ErrorText(umount)}");
        ProcessRunner.Result r = ProcessRunner.Run(tool, arguments, context.Timeout);
        if (r.TimedOut)
            return CheckOutcome.Fail($"{tool} timed out after {context.Timeout.TotalSeconds:0.#} s\n{r.Output}");
        return r.ExitCode == 0 ? CheckOutcome.Pass() : CheckOutcome.Fail($"{tool} {string.Join(' ', arguments[..^1])}: exit {r.ExitCode}\n{r.Output}");
    }
}
