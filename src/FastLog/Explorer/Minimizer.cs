namespace FastLog.Explorer;

/// <summary>
/// Delta debugging (Zeller's ddmin): from a failing set, a 1-minimal subset that still fails — removing any one of
/// its elements makes the test pass — in O(n log n) tests for the usual case, and never more than a given budget.
/// </summary>
public static class Minimizer
{
    /// <param name="fails">True when the candidate set still fails (each call is one check of a state).</param>
    /// <param name="budget">At most this many calls; the smallest failing set found so far is returned then.</param>
    public static IReadOnlyList<int> Minimize(IReadOnlyList<int> failing, Func<IReadOnlyList<int>, bool> fails, int budget)
    {
        List<int> current = [.. failing];
        int tests = 0;
        bool Try(List<int> candidate) => tests++ < budget && fails(candidate);
        if (current.Count > 0 && Try([]))
            return [];
        int n = 2;
        while (current.Count >= 2 && tests < budget)
        {
            List<List<int>> chunks = Split(current, Math.Min(n, current.Count));
            bool reduced = false;
            foreach (List<int> chunk in chunks)
            {
                if (chunk.Count < current.Count && Try(chunk))
                {
                    current = chunk;
                    n = 2;
                    reduced = true;
                    break;
                }
            }
            if (!reduced && chunks.Count > 2)
            {
                foreach (List<int> chunk in chunks)
                {
                    List<int> complement = current.Except(chunk).ToList();
                    if (Try(complement))
                    {
                        current = complement;
                        n = Math.Max(n - 1, 2);
                        reduced = true;
                        break;
                    }
                }
            }
            if (reduced)
                continue;
            if (n >= current.Count)
                break;
            n = Math.Min(n * 2, current.Count);
        }
        return current;
    }

    private static List<List<int>> Split(List<int> set, int parts)
    {
        var chunks = new List<List<int>>(parts);
        int start = 0;
        for (int i = 0; i < parts; i++)
        {
            int end = start + (set.Count - start) / (parts - i);
            chunks.Add(set.GetRange(start, end - start));
            start = end;
        }
        return chunks;
    }
}
