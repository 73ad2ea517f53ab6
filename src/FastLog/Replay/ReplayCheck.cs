using FastLog.LogFormat;

namespace FastLog.Replay;

/// <summary>When <c>--fsck</c> runs: after every Nth replayed entry, or after each entry with a flag.</summary>
public enum ReplayCheckMode { EveryN, Fua, Flush, Discard }

/// <summary>A parsed <c>--check</c> value: a positive number, or <c>fua</c>, <c>flush</c>, <c>discard</c>.</summary>
public readonly record struct ReplayCheck(ReplayCheckMode Mode, ulong Every = 0)
{
    /// <summary>Parses like replay-log: the words first, otherwise a C number (strtoull base 0) that must not be 0.</summary>
    public static bool TryParse(string text, out ReplayCheck check)
    {
        check = text switch
        {
            "fua" => new ReplayCheck(ReplayCheckMode.Fua),
            "flush" => new ReplayCheck(ReplayCheckMode.Flush),
            "discard" => new ReplayCheck(ReplayCheckMode.Discard),
            _ => CNumber.TryParse(text, out ulong n) && n != 0 ? new ReplayCheck(ReplayCheckMode.EveryN, n) : default,
        };
        return check != default;
    }

    /// <summary>Whether the check is due after the <paramref name="replayedCount"/>th entry, which has <paramref name="flags"/>.</summary>
    public bool IsDue(ulong replayedCount, LogEntryFlags flags) => Mode switch
    {
        ReplayCheckMode.EveryN => replayedCount % Every == 0,
        ReplayCheckMode.Fua => (flags & LogEntryFlags.Fua) != 0,
        ReplayCheckMode.Flush => (flags & LogEntryFlags.Flush) != 0,
        _ => (flags & LogEntryFlags.Discard) != 0,
    };
}
