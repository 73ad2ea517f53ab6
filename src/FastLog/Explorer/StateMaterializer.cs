using FastLog.LogFormat;
using FastLog.Replay;

namespace FastLog.Explorer;

/// <summary>Writes one crash state as a whole image: the durable image at its crash point with its overlay on top.</summary>
public static class StateMaterializer
{
    /// <summary>
    /// Writes state <paramref name="stateId"/> of <paramref name="logPath"/> to <paramref name="outputPath"/> (created,
    /// or truncated and rewritten): a copy of <paramref name="baseImage"/> (or zeros of <paramref name="size"/>), then every
    /// content entry before the state's last completed flush, then the state's overlay.
    /// </summary>
    /// <exception cref="FormatException">The ID is not a state of this log.</exception>
    public static CrashState Write(string logPath, string? baseImage, long size, string stateId, string outputPath, int atomicUnit)
    {
        LogIndex index = LogIndexFile.OpenOrBuild(logPath);
        CrashExplorer.CheckRanges(index, size);
        var cache = new Dictionary<int, CrashPoint>();
        CrashPoint PointAt(int entry)
        {
            if (entry < 0 || entry >= index.Count)
                throw new FormatException($"'{stateId}': the log has entries 0-{index.Count - 1}, not {entry}");
            if (!cache.TryGetValue(entry, out CrashPoint? p))
                cache[entry] = p = CrashPoint.At(index, [entry]).Single();
            return p;
        }
        CrashState state = CrashState.Parse(stateId, e => PointAt(e).Volatile.Count);
        CrashPoint point = PointAt(state.CrashEntry);
        if (baseImage is not null)
            File.Copy(baseImage, outputPath, overwrite: true);
        else
        {
            using var stream = new FileStream(outputPath, FileMode.Create, FileAccess.Write);
            stream.SetLength(size);
        }
        using var log = File.OpenHandle(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var target = ReplayTarget.Open(outputPath, direct: false);
        for (int i = 0; i < point.LastCompletedFlush; i++)
            if (!index[i].IsMark)
                target.Apply(log, index[i], index.SectorSize);
        Overlay overlay = StateOverlay.Build(point, state, atomicUnit);
        using var pooled = CommunityToolkit.HighPerformance.Buffers.SpanOwner<byte>.Allocate(1 << 20);
        Span<byte> buffer = pooled.Span;
        foreach (OverlayExtent e in overlay.Extents)
        {
            for (long done = 0; done < e.Length;)
            {
                int n = (int)Math.Min(buffer.Length, e.Length - done);
                overlay.ReadExtent(log, e, e.Offset + done, buffer[..n]);
                target.Write(e.Offset + done, buffer[..n]);
                done += n;
            }
        }
        target.Sync();
        return state;
    }
}
