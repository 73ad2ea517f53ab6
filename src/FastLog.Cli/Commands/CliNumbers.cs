using System.Globalization;

namespace FastLog.Cli.Commands;

/// <summary>Sizes (4096, 64k, 4M, 1G: powers of 1024), counts and durations (90, 30s, 10m, 2h) as options spell them.</summary>
internal static class CliNumbers
{
    public static bool TryCount(string text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    public static bool TrySize(string text, out long bytes)
    {
        bytes = 0;
        text = text.Trim();
        if (text.Length == 0)
            return false;
        int shift = char.ToLowerInvariant(text[^1]) switch { 'k' => 10, 'm' => 20, 'g' => 30, 't' => 40, _ => 0 };
        string digits = shift == 0 ? text : text[..^1];
        if (!TryCount(digits, out long n) || n > long.MaxValue >> shift)
            return false;
        bytes = n << shift;
        return true;
    }

    public static bool TryDuration(string text, out TimeSpan duration)
    {
        duration = default;
        text = text.Trim();
        if (text.Length == 0)
            return false;
        double unit = char.ToLowerInvariant(text[^1]) switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, _ => 0 };
        string digits = unit == 0 ? text : text[..^1];
        if (!double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n) || n <= 0)
            return false;
        duration = TimeSpan.FromSeconds(n * (unit == 0 ? 1 : unit));
        return true;
    }
}
