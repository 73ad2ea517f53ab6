namespace FastLog.Explorer.Checkers;

/// <summary>What a checker gets: the device showing the state, and what the state is.</summary>
/// <param name="Device">The block device (/dev/loopN) that shows the state; the checker may write it (throwaway).</param>
/// <param name="WorkDirectory">A directory of the checker's own for this job (a mount point, temporary files).</param>
/// <param name="ReadDevice">Reads the state's bytes without going through the kernel (0 or -errno).</param>
public sealed record CheckContext(string Device, CrashState State, CrashPoint Point, string WorkDirectory, TimeSpan Timeout,
    ReadBytes ReadDevice);

public delegate int ReadBytes(long offset, Span<byte> destination);

public readonly record struct CheckOutcome(bool Passed, string Output)
{
    public static CheckOutcome Pass(string output = "") => new(true, output);
    public static CheckOutcome Fail(string output) => new(false, output);
}

/// <summary>Decides whether a crash state is acceptable. Called from several jobs at once, each with its own device.</summary>
public interface IStateChecker
{
    /// <summary>How the report names it: "fs", "oracle", or the command.</summary>
    string Name { get; }

    /// <summary>Throws <see cref="CheckerUnavailableException"/> when it cannot run here at all (tool missing, not root).</summary>
    void EnsureAvailable();

    CheckOutcome Check(CheckContext context);
}

/// <summary>A checker that cannot run at all: a usage error, not a thousand failed states.</summary>
public sealed class CheckerUnavailableException(string message) : Exception(message);

/// <summary>Several checks, all of which must pass; stops at the first failure.</summary>
public sealed class AllOf(IReadOnlyList<IStateChecker> checkers) : IStateChecker
{
    public string Name => string.Join(",", checkers.Select(c => c.Name));

    public void EnsureAvailable()
    {
        foreach (IStateChecker c in checkers) c.EnsureAvailable();
    }

    public CheckOutcome Check(CheckContext context)
    {
        var output = new System.Text.StringBuilder();
        foreach (IStateChecker c in checkers)
        {
            CheckOutcome o = c.Check(context);
            if (o.Output.Length > 0)
                output.Append(checkers.Count > 1 ? $"[{c.Name}] " : "").AppendLine(o.Output.TrimEnd());
            if (!o.Passed)
                return CheckOutcome.Fail(output.ToString());
        }
        return CheckOutcome.Pass(output.ToString());
    }
}
