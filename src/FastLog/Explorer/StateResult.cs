using System.Text.Json;

namespace FastLog.Explorer;

public enum StateOutcome { Passed, Failed }

/// <summary>The minimized form of a failing state.</summary>
/// <param name="PersistedEntries">Log entries of the fewest persisted volatile writes that still fail.</param>
/// <param name="DroppedEntries">Log entries of the fewest dropped volatile writes that still fail (all others persisted).</param>
public sealed record MinimizedState(string Id, IReadOnlyList<int> PersistedEntries, string? DroppedId, IReadOnlyList<int>? DroppedEntries, int Checks);

/// <summary>What became of one planned state; one line of results.jsonl.</summary>
/// <param name="Key">The identity of the state's bytes: states with equal keys are checked once.</param>
/// <param name="MergedInto">For a state identical to one checked before, that state's ID (its result is copied).</param>
public sealed record StateResult(
    string Id, int CrashEntry, string Strategy, string Key, StateOutcome Outcome, string? MergedInto,
    string? LastMark, IReadOnlyList<int> Persisted, IReadOnlyList<int> Dropped, IReadOnlyList<string> Details,
    string Output, MinimizedState? Minimized)
{
    public const int MaxOutput = 16 << 10;

    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteNumber("crash_entry", CrashEntry);
        w.WriteString("strategy", Strategy);
        w.WriteString("key", Key);
        w.WriteString("outcome", Outcome == StateOutcome.Passed ? "pass" : "fail");
        if (MergedInto is not null) w.WriteString("merged_into", MergedInto);
        if (LastMark is not null) w.WriteString("last_mark", LastMark);
        if (Outcome == StateOutcome.Failed)
        {
            WriteInts(w, "persisted", Persisted);
            WriteInts(w, "dropped", Dropped);
            w.WriteStartArray("details");
            foreach (string d in Details) w.WriteStringValue(d);
            w.WriteEndArray();
            w.WriteString("output", Output.Length > MaxOutput ? Output[..MaxOutput] + "\n[... cut]" : Output);
        }
        if (Minimized is { } m)
        {
            w.WriteStartObject("minimized");
            w.WriteString("id", m.Id);
            WriteInts(w, "persisted", m.PersistedEntries);
            if (m.DroppedId is not null) w.WriteString("dropped_id", m.DroppedId);
            if (m.DroppedEntries is not null) WriteInts(w, "dropped", m.DroppedEntries);
            w.WriteNumber("checks", m.Checks);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void WriteInts(Utf8JsonWriter w, string name, IReadOnlyList<int> values)
    {
        w.WriteStartArray(name);
        foreach (int v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    public static StateResult ReadJson(JsonElement e)
    {
        static IReadOnlyList<int> Ints(JsonElement e, string name) =>
            e.TryGetProperty(name, out JsonElement a) ? a.EnumerateArray().Select(x => x.GetInt32()).ToArray() : [];
        static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out JsonElement s) ? s.GetString() : null;
        MinimizedState? minimized = null;
        if (e.TryGetProperty("minimized", out JsonElement m))
            minimized = new MinimizedState(Str(m, "id")!, Ints(m, "persisted"), Str(m, "dropped_id"),
                m.TryGetProperty("dropped", out _) ? Ints(m, "dropped") : null, m.GetProperty("checks").GetInt32());
        return new StateResult(
            Str(e, "id")!, e.GetProperty("crash_entry").GetInt32(), Str(e, "strategy")!, Str(e, "key")!,
            Str(e, "outcome") == "pass" ? StateOutcome.Passed : StateOutcome.Failed, Str(e, "merged_into"), Str(e, "last_mark"),
            Ints(e, "persisted"), Ints(e, "dropped"),
            e.TryGetProperty("details", out JsonElement d) ? d.EnumerateArray().Select(x => x.GetString()!).ToArray() : [],
            Str(e, "output") ?? "", minimized);
    }
}

/// <summary>
/// results.jsonl: one line per finished state, appended and flushed as each finishes, so an interrupted run
/// resumes where it stopped (a line is written only once its state's check is complete).
/// </summary>
public sealed class ResultsLog : IDisposable
{
    public const string FileName = "results.jsonl";
    private readonly FileStream _stream;
    private readonly Utf8JsonWriter _writer;

    public ResultsLog(string directory, bool append)
    {
        Directory.CreateDirectory(directory);
        _stream = new FileStream(Path.Combine(directory, FileName), append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
        _writer = new Utf8JsonWriter(_stream, new JsonWriterOptions { Indented = false });
    }

    public void Append(StateResult result)
    {
        lock (_stream)
        {
            result.WriteJson(_writer);
            _writer.Flush();
            _writer.Reset();
            _stream.WriteByte((byte)'\n');
            _stream.Flush();
        }
    }

    /// <summary>Every complete line of a results file; a torn last line (the run was killed mid-write) is ignored.</summary>
    public static IEnumerable<StateResult> Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            yield break;
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0) continue;
            StateResult? result;
            try
            {
                using var doc = JsonDocument.Parse(line);
                result = StateResult.ReadJson(doc.RootElement);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                result = null;
            }
            if (result is not null)
                yield return result;
        }
    }

    public void Dispose()
    {
        _writer.Dispose();
        _stream.Dispose();
    }
}
