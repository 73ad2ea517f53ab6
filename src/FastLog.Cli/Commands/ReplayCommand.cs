using System.CommandLine;
using FastLog.Replay;

namespace FastLog.Cli.Commands;

/// <summary>
/// <c>fastlog replay</c>: xfstests' replay-log with the same options, output and exit codes, plus an index so
/// seeking is instant and coalesced writes so replay runs at disk speed.
/// </summary>
internal static class ReplayCommand
{
    private static readonly Option<string> Log = new("--log") { Description = "The dm-log-writes log (file or block device).", Required = true, HelpName = "LOG" };
    private static readonly Option<string> Target = new("--replay") { Description = "Replay onto this existing file or block device. Without it, print 'Log version=1, sectorsize=N, entries=N'. A block device is opened exclusively (O_EXCL): one that is mounted or held elsewhere is refused, as is the log itself.", HelpName = "DEV" };
    private static readonly Option<string> Limit = new("--limit") { Description = "Stop after N entries counted from the start point (inclusive).", HelpName = "N" };
    private static readonly Option<string> StartEntry = new("--start-entry") { Description = "Start at entry N (0-based); entries before it are not replayed.", HelpName = "N" };
    private static readonly Option<string> StartMark = new("--start-mark") { Description = "Start right after the first mark named MARK (the mark itself is not replayed).", HelpName = "MARK" };
    private static readonly Option<string> EndMark = new("--end-mark") { Description = "Stop at the first mark named exactly MARK, inclusive. Overrides --next-fua/--next-flush, as in replay-log.", HelpName = "MARK" };
    private static readonly Option<bool> NextFua = new("--next-fua") { Description = "Stop at the next FUA entry, inclusive." };
    private static readonly Option<bool> NextFlush = new("--next-flush") { Description = "Stop at the next FLUSH entry, inclusive." };
    private static readonly Option<bool> Find = new("--find") { Description = "Replay nothing; print ENTRY@LOGSECTOR for the first entry meeting the stop conditions (LOGSECTOR is just past the entry), or 'Couldn't find entry' and exit 1." };
    private static readonly Option<bool> NumEntries = new("--num-entries", "--number-entries") { Description = "Print nr_entries and exit." };
    private static readonly Option<bool> NoDiscard = new("--no-discard") { Description = "Ignore DISCARD entries (by default they punch holes in a file, or BLKDISCARD a device, falling back to zeroing)." };
    private static readonly Option<string> Fsck = new("--fsck") { Description = "Run CMD with /bin/sh -c after an fsync whenever --check is due; a non-zero exit prints 'Fsck errored out on entry N' and exits 1. Needs --check. The target stays held with O_EXCL meanwhile, so CMD must not need it exclusively (e2fsck -n, xfs_repair -n).", HelpName = "CMD" };
    private static readonly Option<string> Check = new("--check") { Description = "When to run --fsck: every N entries, or after each fua, flush or discard entry. Needs --fsck.", HelpName = "N|fua|flush|discard" };
    private static readonly Option<string> StartSector = new("--start-sector") { Description = "Replay only writes overlapping sectors from S on (log sectors). Discards are applied regardless, a replay-log quirk kept on purpose.", HelpName = "S" };
    private static readonly Option<string> EndSector = new("--end-sector") { Description = "Replay only writes overlapping sectors up to S (inclusive).", HelpName = "S" };
    private static readonly Option<bool> Verbose = new("-v", "--verbose") { Description = "Print each replayed entry: 'replaying N@LOGSECTOR: sector S, size BYTES, flags 0x..(NAMES)'." };
    private static readonly Option<bool> VeryVerbose = new("-vv") { Description = "Also print skipped entries and the entries walked over while seeking." };
    private static readonly Option<bool> Scan = new("--scan") { Description = "Trust entries past a stale nr_entries (a crashed host leaves it behind) up to the first implausible header; reports how many were recovered." };
    private static readonly Option<bool> Buffered = new("--buffered") { Description = "Never use O_DIRECT on the target (by default large aligned runs bypass the page cache)." };

    private static readonly Option[] All =
        [Log, Target, Limit, StartEntry, StartMark, EndMark, NextFua, NextFlush, Find, NumEntries, NoDiscard, Fsck, Check, StartSector, EndSector, Verbose, VeryVerbose, Scan, Buffered];

    public static Command Create()
    {
        var command = new Command("replay", """
            Replay a dm-log-writes log onto a file or block device, exactly like xfstests' replay-log.
            Examples:
              fastlog replay --log LOG                                   # Log version=1, sectorsize=512, entries=N
              fastlog replay --log LOG --find --end-mark mkfs            # entry number of mark 'mkfs'
              fastlog replay --log LOG --replay /dev/sdX --end-mark mkfs # replay entries 0..mark
              fastlog replay --log LOG --replay IMG --check fua --fsck 'fsck -n IMG'
            Long options may be abbreviated (--start-m). Invoked as 'replay-log' (a symlink), fastlog is this command.
            """);
        foreach (Option option in All)
            command.Options.Add(option);
        command.SetAction(Run);
        return command;
    }

    /// <summary>Applies replay-log's getopt_long conventions to the arguments that follow 'replay'.</summary>
    public static string[] NormalizeArguments(string[] args)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var takesValue = new HashSet<string>(StringComparer.Ordinal);
        foreach (Option option in All)
        {
            foreach (string name in option.Aliases.Prepend(option.Name).Where(n => n.StartsWith("--", StringComparison.Ordinal)))
                names[name] = option.Name;
            if (option.ValueType != typeof(bool))
                takesValue.Add(option.Name);
        }
        return GetoptLongArguments.Normalize(args, names, takesValue);
    }

    /// <summary>Options that say contradictory things, as a message, or null. Overlaps replay-log resolves by a
    /// documented precedence (--end-mark over --next-fua) are not conflicts.</summary>
    private static string? Conflict(ParseResult parse)
    {
        bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
        if (Given(StartMark) && Given(StartEntry))
            return "--start-mark and --start-entry both say where to start: give one";
        if (Given(Find) && Given(Target))
            return "--find replays nothing, so --replay would be ignored: give one of them";
        if (Given(NumEntries) && (Given(Find) || Given(Target)))
            return "--num-entries only prints nr_entries: it cannot be combined with --find or --replay";
        return null;
    }

    private static int Run(ParseResult parse)
    {
        if (Conflict(parse) is { } conflict)
        {
            Console.Error.WriteLine($"fastlog replay: {conflict}");
            return 1;
        }
        if (!TryNumber(parse, Limit, "Invalid entry number", 0, out ulong limit)
            || !TryNumber(parse, StartEntry, "Invalid entry number", 0, out ulong startEntry)
            || !TryNumber(parse, StartSector, "Invalid sector number", 0, out ulong startSector)
            || !TryNumber(parse, EndSector, "Invalid sector number", ulong.MaxValue, out ulong endSector))
            return 1;
        ReplayCheck? check = null;
        if (parse.GetValue(Check) is { } checkText)
        {
            if (!ReplayCheck.TryParse(checkText, out ReplayCheck parsed))
            {
                Console.Error.WriteLine("Invalid entry number");
                return 1;
            }
            check = parsed;
        }
        var options = new ReplayOptions
        {
            LogPath = parse.GetValue(Log)!,
            ReplayPath = parse.GetValue(Target),
            Limit = limit,
            StartEntry = startEntry,
            StartMark = parse.GetValue(StartMark),
            EndMark = parse.GetValue(EndMark),
            NextFua = parse.GetValue(NextFua),
            NextFlush = parse.GetValue(NextFlush),
            Find = parse.GetValue(Find),
            PrintEntryCount = parse.GetValue(NumEntries),
            NoDiscard = parse.GetValue(NoDiscard),
            FsckCommand = parse.GetValue(Fsck),
            Check = check,
            StartSector = startSector,
            EndSector = endSector,
            Verbosity = parse.GetValue(VeryVerbose) ? 2 : parse.GetValue(Verbose) ? 1 : 0,
            Scan = parse.GetValue(Scan),
            Direct = !parse.GetValue(Buffered),
        };
        using var output = new StreamWriter(Console.OpenStandardOutput(), bufferSize: 1 << 16) { AutoFlush = false };
        int exitCode = new LogReplayer(options, output, Console.Error).Run();
        output.Flush();
        return exitCode;
    }

    /// <summary>Reads a numeric option the way replay-log does (strtoull base 0), with its error text.</summary>
    private static bool TryNumber(ParseResult parse, Option<string> option, string invalid, ulong absent, out ulong value)
    {
        value = absent;
        if (parse.GetValue(option) is not { } text)
            return true;
        if (CNumber.TryParse(text, out value))
            return true;
        Console.Error.WriteLine($"{invalid}: {option.Name} {text}");
        return false;
    }
}
