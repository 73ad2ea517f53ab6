using System.Globalization;

namespace FastLog.Workload;

/// <summary>
/// The marks <c>fastlog stress --mark-device</c> puts in the capture log: <c>stress:K</c> right after promise K
/// was acknowledged and journaled (<c>stress:0</c> once the files exist, before any write). At any log position,
/// the promises in force are those up to the last <c>stress:K</c> mark before it, so a crash state there is judged
/// with <c>OracleVerifier.Verify(dir, journal, upToPromise: K)</c>.
/// </summary>
public static class StressMarks
{
    public const string Prefix = "stress:";

    /// <summary>The mark name for promise <paramref name="promise"/>.</summary>
    public static string Name(long promise) => Prefix + promise.ToString(CultureInfo.InvariantCulture);

    /// <summary>Maps a log mark name to its promise number: <c>stress:17</c> → 17; false for any other mark.</summary>
    public static bool TryParse(string? markName, out long promise)
    {
        promise = 0;
        return markName is not null && markName.StartsWith(Prefix, StringComparison.Ordinal)
            && markName.Length > Prefix.Length && markName.AsSpan(Prefix.Length).IndexOfAnyExceptInRange('0', '9') < 0
            && long.TryParse(markName.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out promise);
    }
}
