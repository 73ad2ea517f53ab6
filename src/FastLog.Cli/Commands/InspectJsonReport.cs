using System.Globalization;
using System.Text.Json;
using FastLog.LogFormat;

namespace FastLog.Cli.Commands;

/// <summary>
/// The <c>inspect --json</c> report, written with Utf8JsonWriter (no reflection, NativeAOT-safe) straight to the
/// output stream: the writer is flushed whenever <see cref="FlushThreshold"/> bytes are pending, so memory stays
/// flat however many entries <c>--entries</c> lists (a writer on a stream otherwise buffers the whole document).
/// </summary>
internal static class InspectJsonReport
{
    /// <summary>Pending bytes after which the writer hands its buffer to the stream.</summary>
    public const int FlushThreshold = 64 << 10;

    public static void Write(StreamWriter output, IReadOnlyList<LogIndex> indexes, bool listEntries)
    {
        output.Flush();
        using var json = new Utf8JsonWriter(output.BaseStream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartArray("logs");
        foreach (LogIndex index in indexes)
            WriteLog(json, index, listEntries);
        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        output.BaseStream.WriteByte((byte)'\n');
    }

    private static void WriteLog(Utf8JsonWriter json, LogIndex index, bool listEntries)
    {
        LogStatistics s = LogStatistics.Of(index);
        json.WriteStartObject();
        json.WriteString("path", index.LogPath);
        json.WriteNumber("sectorSize", s.SectorSize);
        json.WriteNumber("nrEntries", s.NrEntries);
        json.WriteNumber("entries", s.Entries);
        json.WriteNumber("recoveredEntries", s.RecoveredEntries);
        if (s.Damage is { } damage)
        {
            json.WriteStartObject("damage");
            json.WriteNumber("entry", damage.Entry);
            json.WriteNumber("byteOffset", damage.ByteOffset);
            json.WriteString("problem", damage.Problem);
            json.WriteEndObject();
        }
        json.WriteNumber("writes", s.Writes);
        json.WriteNumber("fua", s.Fuas);
        json.WriteNumber("metadata", s.MetadataWrites);
        json.WriteNumber("flushes", s.Flushes);
        json.WriteNumber("failedFlushes", s.FailedFlushes);
        json.WriteNumber("discards", s.Discards);
        json.WriteNumber("marks", s.Marks);
        json.WriteNumber("bytesWritten", s.BytesWritten);
        json.WritePropertyName("bytesDiscarded");
        json.WriteRawValue(s.BytesDiscarded.ToString(CultureInfo.InvariantCulture)); // may exceed 2^64: a JSON number has no limit
        json.WriteNumber("sequentialWrites", s.SequentialWrites);
        json.WriteNumber("sequentialShare", s.SequentialShare);
        json.WriteStartObject("epochs");
        json.WriteNumber("count", s.Epochs);
        json.WriteNumber("longestWrites", s.LongestEpochWrites);
        json.WriteNumber("longestEpoch", s.LongestEpoch);
        WriteHistogram(json, "writesPerEpoch", s.WritesPerEpoch);
        json.WriteEndObject();
        WriteHistogram(json, "writeSizeBytes", s.WriteSizes);
        json.WriteStartArray("markList");
        foreach ((int entry, string name) in s.MarkList)
        {
            json.WriteStartObject();
            json.WriteNumber("entry", entry);
            json.WriteString("name", name);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        if (listEntries)
            WriteEntries(json, index);
        json.WriteEndObject();
    }

    private static void WriteEntries(Utf8JsonWriter json, LogIndex index)
    {
        json.WriteStartArray("entryList");
        for (int i = 0; i < index.Count; i++)
        {
            ref readonly LogIndexEntry e = ref index[i];
            json.WriteStartObject();
            json.WriteNumber("entry", i);
            json.WriteNumber("logOffset", e.HeaderOffset);
            json.WriteNumber("sector", e.Sector);
            json.WriteNumber("bytes", (long)e.NrSectors * index.SectorSize);
            json.WriteString("flags", LogEntryFlagsText.Describe(e.Flags));
            if (index.MarkNameAt(i) is { } name)
                json.WriteString("mark", name);
            json.WriteEndObject();
            if (json.BytesPending >= FlushThreshold)
                json.Flush();
        }
        json.WriteEndArray();
    }

    private static void WriteHistogram(Utf8JsonWriter json, string name, Log2Histogram histogram)
    {
        json.WriteStartArray(name);
        foreach ((ulong low, ulong high, long count) in histogram.Buckets())
        {
            json.WriteStartObject();
            json.WriteNumber("low", low);
            json.WriteNumber("high", high);
            json.WriteNumber("count", count);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
