using FastLog.LogFormat;
using FastLog.Workload;

namespace FastLog.Explorer.Checkers;

/// <summary>
/// <c>--check oracle=JOURNAL</c>: mounts the state and checks the files of a <c>fastlog stress</c> run against its
/// journal, with the promises in force at the crash point: those up to the last <c>stress:K</c> mark at or before it.
/// The mark goes into the log after the fsync was acknowledged, so every promise it names was made before the crash.
/// </summary>
public sealed class OracleChecker : IStateChecker
{
    private readonly string _journalPath;
    private readonly StressJournal _journal;
    private readonly int[] _markEntries;
    private readonly long[] _markPromises;

    public OracleChecker(string journalPath, LogIndex index)
    {
        _journalPath = journalPath;
        try
        {
            _journal = StressJournal.Open(journalPath);
        }
        catch (Exception e) when (e is StressJournalException or IOException or UnauthorizedAccessException)
        {
            throw new CheckerUnavailableException($"--check oracle={journalPath}: {e.Message}");
        }
        var marks = index.MarkNames.Where(m => StressMarks.TryParse(m.Value, out _)).OrderBy(m => m.Key).ToArray();
        _markEntries = marks.Select(m => m.Key).ToArray();
        _markPromises = marks.Select(m => { StressMarks.TryParse(m.Value, out long k); return k; }).ToArray();
        if (_markEntries.Length == 0)
            throw new CheckerUnavailableException($"--check oracle={journalPath}: the log has no stress:K marks (run fastlog stress with --mark-device)");
    }

    public string Name => "oracle";

    public void EnsureAvailable()
    {
        if (Interop.Libc.GetEUid() != 0)
            throw new CheckerUnavailableException("--check oracle mounts each state: run as root");
    }

    /// <summary>The promise in force after entry <paramref name="crashEntry"/>, or -1 before stress started.</summary>
    public long PromiseInForce(int crashEntry)
    {
        int i = Array.BinarySearch(_markEntries, crashEntry);
        if (i < 0) i = ~i - 1;
        return i < 0 ? -1 : _markPromises[i];
    }

    public CheckOutcome Check(CheckContext context)
    {
        long promise = PromiseInForce(context.Point.Entry);
        if (promise < 0)
            return CheckOutcome.Pass("no stress promise before this crash point");
        using StateMount? mount = StateMount.TryMount(context, out string failure);
        if (mount is null)
            return CheckOutcome.Fail(failure);
        OracleReport report = OracleVerifier.Verify(mount.Path, _journal, Math.Min(promise, _journal.Promises));
        if (report.Passed)
            return CheckOutcome.Pass($"promises up to {promise} hold ({_journalPath})");
        var text = new System.Text.StringBuilder($"{report.Mismatches.Count + report.MismatchesOmitted} ranges break promises up to {promise} ({_journalPath}):\n");
        foreach (OracleMismatch m in report.Mismatches.Take(20))
            text.AppendLine(m.ToString());
        return CheckOutcome.Fail(text.ToString());
    }
}
