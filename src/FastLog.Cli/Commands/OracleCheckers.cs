using FastLog.Explorer.Checkers;

namespace FastLog.Cli.Commands;

/// <summary>--check oracle=JOURNAL: files hold what fastlog stress promised.</summary>
internal static class OracleCheckers
{
    public static IStateChecker Create(string journal) =>
        throw new FormatException($"--check oracle={journal}: the oracle checker arrives with fastlog stress (issue 13); not in this build");
}
