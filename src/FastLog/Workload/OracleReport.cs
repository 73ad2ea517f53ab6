using System.Text;

namespace FastLog.Workload;

/// <summary>What the oracle found where a block broke its promise.</summary>
public enum FoundKind
{
    /// <summary>The file ends before this range (or the file is missing).</summary>
    Missing,
    /// <summary>The file ends inside a unit.</summary>
    Short,
    Zeros,
    /// <summary>Stress data for this very place, but an older version than the promised one.</summary>
    WrongVersion,
    /// <summary>Stress data for this very place from a write the journal does not have (records lost after it).</summary>
    NotInJournal,
    /// <summary>Stress data of another file or offset.</summary>
    Misplaced,
    /// <summary>A stress unit header whose payload does not match it.</summary>
    Torn,
    /// <summary>Neither zeros nor this run's data.</summary>
    Garbage,
    /// <summary>Bytes past the largest size the workload could have given the file.</summary>
    Extra,
}

/// <summary>
/// One range of a file (whole units, coalesced) that holds neither what its promise said nor any later write.
/// Allowed were: <see cref="PromisedVersion"/> (0: never written before the promise, so zeros), any of
/// <see cref="LaterVersions"/> (writes issued after the promise that cover part of the range; the first few, with
/// <see cref="LaterVersionsOmitted"/> more), and, when <see cref="PastPromisedSize"/>, absence or zeros.
/// </summary>
public sealed record OracleMismatch(
    string File, long Offset, long Length, long PromisedVersion, bool PastPromisedSize,
    IReadOnlyList<long> LaterVersions, long LaterVersionsOmitted,
    FoundKind Found, long FoundVersion, string? FoundFile, long FoundOffset)
{
    public string AllowedText()
    {
        var text = new StringBuilder(PromisedVersion == 0 ? "never written before the promise (zeros)" : $"version {PromisedVersion}");
        if (LaterVersions.Count > 0)
            text.Append($" or a later write: {string.Join(", ", LaterVersions)}{(LaterVersionsOmitted > 0 ? $" (and {LaterVersionsOmitted} more)" : "")}");
        if (PastPromisedSize)
            text.Append(", or absent (past the promised size)");
        return text.ToString();
    }

    public string FoundText() => Found switch
    {
        FoundKind.Missing => "nothing (the file ends before it)",
        FoundKind.Short => "a partial unit (the file ends inside it)",
        FoundKind.Zeros => "zeros",
        FoundKind.WrongVersion => $"version {FoundVersion}",
        FoundKind.NotInJournal => $"version {FoundVersion}, a write the journal does not have",
        FoundKind.Misplaced => $"the data of {FoundFile} at offset {FoundOffset}, version {FoundVersion}",
        FoundKind.Torn => $"a torn or corrupted copy of version {FoundVersion}",
        FoundKind.Garbage => "garbage (neither zeros nor this run's data)",
        FoundKind.Extra => "bytes past the largest size any write could give the file",
        _ => Found.ToString(),
    };

    public override string ToString() => $"{File} offset {Offset} length {Length}: allowed {AllowedText()}; found {FoundText()}";
}

/// <summary>How one file fared.</summary>
/// <param name="Promise">The promise in force for it (0: none, nothing was required).</param>
/// <param name="CoveredWrite">That promise covers this file's writes numbered up to here.</param>
/// <param name="PromisedSize">The size the promise guarantees (the end of its furthest covered write).</param>
/// <param name="ActualSize">The size found; -1 when the file is missing.</param>
/// <param name="PromiseSkipped">That promise's fsync was left out on purpose (stress --skip-fsync-every).</param>
public sealed record OracleFileReport(string File, long Promise, long CoveredWrite, long PromisedSize, long ActualSize, long MismatchedBytes, bool PromiseSkipped);

/// <summary>
/// The verdict of <see cref="OracleVerifier.Verify(string, string, long?)"/>: every file checked against the promises in force
/// (up to <see cref="PromiseInForce"/>), and each range that broke one.
/// </summary>
public sealed record OracleReport(
    string Directory, string JournalPath, StressJournalHeader? Header, long Writes, long Promises, long PromiseInForce,
    string? JournalDamage, string? RunEnding, IReadOnlyList<OracleFileReport> Files,
    IReadOnlyList<OracleMismatch> Mismatches, long MismatchesOmitted, long MismatchedBytes)
{
    /// <summary>Every file holds at least what its promise said.</summary>
    public bool Passed => Mismatches.Count == 0 && MismatchesOmitted == 0;
}
