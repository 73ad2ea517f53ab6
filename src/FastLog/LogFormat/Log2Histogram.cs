using System.Numerics;

namespace FastLog.LogFormat;

/// <summary>
/// Counts values in power-of-two buckets: bucket 0 holds 0, bucket k ≥ 1 holds [2^(k-1), 2^k).
/// Enough to see the shape of write sizes or epoch lengths without storing them.
/// </summary>
public sealed class Log2Histogram
{
    private readonly long[] _counts = new long[65];

    public void Add(ulong value) => _counts[value == 0 ? 0 : 64 - BitOperations.LeadingZeroCount(value)]++;

    /// <summary>Non-empty buckets as (inclusive low, inclusive high, count), ascending.</summary>
    public IEnumerable<(ulong Low, ulong High, long Count)> Buckets()
    {
        for (int k = 0; k < _counts.Length; k++)
        {
            if (_counts[k] == 0)
                continue;
            ulong low = k == 0 ? 0 : 1UL << (k - 1);
            ulong high = k == 0 ? 0 : k == 64 ? ulong.MaxValue : (1UL << k) - 1;
            yield return (low, high, _counts[k]);
        }
    }
}
