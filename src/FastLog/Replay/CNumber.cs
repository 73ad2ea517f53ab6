using System.Globalization;

namespace FastLog.Replay;

/// <summary>
/// Numbers as replay-log reads them with <c>strtoull(s, &amp;end, 0)</c>: decimal, <c>0x</c> hex, or octal with a
/// leading 0, optional leading whitespace and sign, nothing after. Kept so scripts written for replay-log
/// (e.g. <c>--limit 0x10</c>) mean the same here.
/// </summary>
public static class CNumber
{
    public static bool TryParse(string text, out ulong value)
    {
        value = 0;
        ReadOnlySpan<char> s = text.AsSpan().TrimStart();
        bool negative = false;
        if (s.Length > 0 && (s[0] == '+' || s[0] == '-'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        bool ok;
        if (s.Length > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
            ok = ulong.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        else if (s.Length > 1 && s[0] == '0')
            ok = TryParseOctal(s[1..], out value);
        else
            ok = s.Length > 0 && ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (ok && negative)
            value = unchecked(0 - value); // strtoull negates in unsigned arithmetic
        return ok;
    }

    private static bool TryParseOctal(ReadOnlySpan<char> digits, out ulong value)
    {
        value = 0;
        foreach (char c in digits)
        {
            if (c < '0' || c > '7' || value > ulong.MaxValue >> 3)
                return false;
            value = (value << 3) + (uint)(c - '0');
        }
        return true;
    }
}
