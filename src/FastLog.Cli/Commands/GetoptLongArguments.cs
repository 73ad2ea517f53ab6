namespace FastLog.Cli.Commands;

/// <summary>
/// Rewrites arguments written for getopt_long, as replay-log parses them, into what System.CommandLine
/// accepts: unambiguous prefixes of long options (<c>--start-m</c>) become the full name, <c>--opt=value</c>
/// is split, and any mix of <c>-v</c>, <c>-vv</c>, <c>--verbose</c> collapses into one <c>-v</c> or <c>-vv</c>.
/// </summary>
internal static class GetoptLongArguments
{
    /// <param name="args">Arguments as given.</param>
    /// <param name="longOptions">Every accepted long name (leading dashes included) → its canonical name, so an
    /// alias (<c>--number-entries</c>) does not make a prefix of both ambiguous.</param>
    /// <param name="takesValue">Which of them consume the next argument.</param>
    /// <exception cref="ArgumentException">A prefix matches several options.</exception>
    public static string[] Normalize(string[] args, IReadOnlyDictionary<string, string> longOptions, ISet<string> takesValue)
    {
        var result = new List<string>(args.Length);
        int verbosity = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg == "--")
            {
                result.AddRange(args[i..]);
                break;
            }
            if (arg.Length > 1 && arg[0] == '-' && arg[1] != '-' && arg.AsSpan(1).TrimStart('v').IsEmpty)
            {
                verbosity += arg.Length - 1;
                continue;
            }
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                result.Add(arg);
                continue;
            }
            int equals = arg.IndexOf('=');
            string name = equals < 0 ? arg : arg[..equals];
            name = Expand(name, longOptions);
            if (name == "--verbose")
            {
                verbosity++;
                continue;
            }
            result.Add(name);
            if (equals >= 0)
                result.Add(arg[(equals + 1)..]);
            else if (takesValue.Contains(name) && i + 1 < args.Length)
                result.Add(args[++i]); // the value, even if it starts with a dash (getopt takes it as is)
        }
        if (verbosity > 0)
            result.Add(verbosity > 1 ? "-vv" : "-v");
        return result.ToArray();
    }

    /// <summary>The full option <paramref name="name"/> abbreviates, or the name itself if none does.</summary>
    /// <exception cref="ArgumentException">Several options start with <paramref name="name"/> (getopt's wording).</exception>
    private static string Expand(string name, IReadOnlyDictionary<string, string> longOptions)
    {
        if (longOptions.ContainsKey(name))
            return name;
        string[] matches = longOptions.Where(o => o.Key.StartsWith(name, StringComparison.Ordinal))
            .Select(o => o.Value).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (matches.Length > 1)
            throw new ArgumentException($"option '{name}' is ambiguous; possibilities: {string.Join(' ', matches.Select(m => $"'{m}'"))}");
        return matches.Length == 1 ? matches[0] : name;
    }
}
