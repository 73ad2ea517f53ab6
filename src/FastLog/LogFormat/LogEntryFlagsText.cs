using System.Text;

namespace FastLog.LogFormat;

/// <summary>Flag names as replay-log prints them: <c>FLUSH|FUA</c>, <c>NONE</c>, <c>UNKNOWN.0x40</c> for the rest.</summary>
public static class LogEntryFlagsText
{
    private static readonly (LogEntryFlags Flag, string Name)[] Names =
    [
        (LogEntryFlags.Flush, "FLUSH"), (LogEntryFlags.Fua, "FUA"), (LogEntryFlags.Discard, "DISCARD"),
        (LogEntryFlags.Mark, "MARK"), (LogEntryFlags.Metadata, "METADATA"),
    ];

    public static string Describe(LogEntryFlags flags)
    {
        if (flags == LogEntryFlags.None)
            return "NONE";
        var text = new StringBuilder();
        foreach ((LogEntryFlags flag, string name) in Names)
        {
            if ((flags & flag) == 0)
                continue;
            if (text.Length > 0)
                text.Append('|');
            text.Append(name);
            flags &= ~flag;
        }
        if (flags != 0)
            text.Append(text.Length > 0 ? "|" : "").Append("UNKNOWN.0x").Append(((ulong)flags).ToString("x"));
        return text.ToString();
    }
}
