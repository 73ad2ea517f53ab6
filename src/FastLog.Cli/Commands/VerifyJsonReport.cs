using System.Text.Json;
using FastLog.Workload;

namespace FastLog.Cli.Commands;

/// <summary>The <c>verify --json</c> report, written with Utf8JsonWriter (no reflection, NativeAOT-safe).</summary>
internal static class VerifyJsonReport
{
    public static void Write(Stream output, OracleReport report)
    {
        using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteBoolean("passed", report.Passed);
            json.WriteString("directory", report.Directory);
            json.WriteString("journal", report.JournalPath);
            json.WriteNumber("writes", report.Writes);
            json.WriteNumber("promises", report.Promises);
            json.WriteNumber("promiseInForce", report.PromiseInForce);
            json.WriteString("journalDamage", report.JournalDamage);
            json.WriteString("runEnding", report.RunEnding);
            json.WriteNumber("mismatchedBytes", report.MismatchedBytes);
            json.WriteNumber("mismatchesOmitted", report.MismatchesOmitted);
            json.WriteStartArray("files");
            foreach (OracleFileReport f in report.Files)
            {
                json.WriteStartObject();
                json.WriteString("file", f.File);
                json.WriteNumber("promise", f.Promise);
                json.WriteNumber("coveredWrite", f.CoveredWrite);
                json.WriteBoolean("promiseSkipped", f.PromiseSkipped);
                json.WriteNumber("promisedSize", f.PromisedSize);
                json.WriteNumber("size", f.ActualSize);
                json.WriteNumber("mismatchedBytes", f.MismatchedBytes);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("mismatches");
            foreach (OracleMismatch m in report.Mismatches)
            {
                json.WriteStartObject();
                json.WriteString("file", m.File);
                json.WriteNumber("offset", m.Offset);
                json.WriteNumber("length", m.Length);
                json.WriteNumber("promisedVersion", m.PromisedVersion);
                json.WriteBoolean("pastPromisedSize", m.PastPromisedSize);
                json.WriteStartArray("laterVersions");
                foreach (long v in m.LaterVersions)
                    json.WriteNumberValue(v);
                json.WriteEndArray();
                json.WriteNumber("laterVersionsOmitted", m.LaterVersionsOmitted);
                json.WriteString("found", m.Found.ToString());
                if (m.Found is FoundKind.WrongVersion or FoundKind.NotInJournal or FoundKind.Misplaced or FoundKind.Torn)
                    json.WriteNumber("foundVersion", m.FoundVersion);
                if (m.FoundFile is not null)
                {
                    json.WriteString("foundFile", m.FoundFile);
                    json.WriteNumber("foundOffset", m.FoundOffset);
                }
                json.WriteString("text", m.ToString());
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        output.WriteByte((byte)'\n');
        output.Flush();
    }
}
