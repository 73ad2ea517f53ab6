using System.Collections;
using System.Globalization;
using System.Text;

namespace FastLog.Explorer;

/// <summary>How a state alters one volatile write beyond persisting it or not.</summary>
public enum WriteFate : byte
{
    /// <summary>Only some of its atomic units persisted (<see cref="StateModifier.Units"/>, bit i = unit i).</summary>
    Torn,
    /// <summary>Its range reads back as zeros.</summary>
    Zeroed,
    /// <summary>Its range reads back as random bytes (deterministic from the state).</summary>
    Garbage,
    /// <summary>One atomic unit (<see cref="StateModifier.Units"/> = its index in the write) shows this write's
    /// version although a later persisted write covers it: the later one reached the media first.</summary>
    OlderVersion,
}

/// <summary>A change to volatile write <see cref="Write"/> (an index into <see cref="CrashPoint.Volatile"/>).</summary>
public readonly record struct StateModifier(WriteFate Fate, int Write, ulong Units = 0);

/// <summary>
/// One disk state a power cut could leave: a crash point, which of its volatile writes persisted, and modifiers
/// (torn, zeroed, garbage, older version). Its <see cref="Id"/> is short, printable and deterministic: the same ID
/// names the same bytes for the same log, on any machine, in any run.
/// </summary>
/// <remarks>
/// ID grammar: <c>e{entry}-{persisted}[-{modifier}...]</c>. Persisted is <c>A</c> (all volatile writes), <c>N</c>
/// (none), <c>S{hex}</c> (bit i = write i persisted), <c>L{i.j...}</c> (only these), <c>D{i.j...}</c> (all but these)
/// or <c>R{n}</c> (the n-th seeded random subset, see <see cref="RandomSubset"/>); the shortest form is printed.
/// Modifiers: <c>T{i}:{hex units}</c> torn, <c>Z{i}</c> zeroed, <c>G{i}</c> garbage, <c>O{i}:{unit}</c> older version.
/// </remarks>
public sealed class CrashState
{
    public CrashState(int crashEntry, BitArray persisted, IReadOnlyList<StateModifier>? modifiers = null, string strategy = "subsets", int? randomSample = null)
    {
        CrashEntry = crashEntry;
        Persisted = persisted;
        Modifiers = modifiers ?? [];
        Strategy = strategy;
        RandomSample = randomSample;
    }

    public int CrashEntry { get; }
    /// <summary>Bit i: volatile write i of the crash point persisted.</summary>
    public BitArray Persisted { get; }
    public IReadOnlyList<StateModifier> Modifiers { get; }
    /// <summary>Which strategy produced it (prefix, subsets, torn, versions, corrupt, minimized).</summary>
    public string Strategy { get; }
    /// <summary>Set when <see cref="Persisted"/> is the n-th random subset: the ID then says R{n}.</summary>
    public int? RandomSample { get; }

    public int PersistedCount
    {
        get
        {
            int n = 0;
            for (int i = 0; i < Persisted.Length; i++) if (Persisted[i]) n++;
            return n;
        }
    }

    private string? _id;
    public string Id => _id ??= FormatId();

    public override string ToString() => Id;

    private string FormatId()
    {
        var id = new StringBuilder().Append('e').Append(CrashEntry).Append('-').Append(FormatPersisted());
        foreach (StateModifier m in Modifiers)
        {
            id.Append('-');
            switch (m.Fate)
            {
                case WriteFate.Torn: id.Append('T').Append(m.Write).Append(':').Append(m.Units.ToString("x", CultureInfo.InvariantCulture)); break;
                case WriteFate.Zeroed: id.Append('Z').Append(m.Write); break;
                case WriteFate.Garbage: id.Append('G').Append(m.Write); break;
                case WriteFate.OlderVersion: id.Append('O').Append(m.Write).Append(':').Append(m.Units); break;
            }
        }
        return id.ToString();
    }

    private string FormatPersisted()
    {
        int n = Persisted.Length, kept = PersistedCount;
        if (kept == n) return "A";
        if (kept == 0) return "N";
        if (RandomSample is int sample) return "R" + sample;
        var hex = new StringBuilder("S");
        for (int nibble = (n + 3) / 4 - 1; nibble >= 0; nibble--)
        {
            int v = 0;
            for (int b = 3; b >= 0; b--)
                v = v << 1 | (nibble * 4 + b < n && Persisted[nibble * 4 + b] ? 1 : 0);
            if (v != 0 || hex.Length > 1) hex.Append("0123456789abcdef"[v]);
        }
        string list = "L" + string.Join('.', Indices(true));
        string coList = "D" + string.Join('.', Indices(false));
        string best = hex.ToString();
        if (list.Length < best.Length) best = list;
        if (coList.Length < best.Length) best = coList;
        return best;
    }

    private IEnumerable<int> Indices(bool value)
    {
        for (int i = 0; i < Persisted.Length; i++)
            if (Persisted[i] == value) yield return i;
    }

    /// <summary>
    /// The n-th random subset of <paramref name="count"/> volatile writes at <paramref name="crashEntry"/>: each
    /// write persists with probability 1/2, from a generator seeded by the crash entry and n alone, so an ID like
    /// <c>e41-R7</c> names the same subset in every run, whatever --seed chose n.
    /// </summary>
    public static BitArray RandomSubset(int crashEntry, int count, int n)
    {
        var random = new SplitMix64(((ulong)(uint)crashEntry << 32) ^ (uint)n ^ 0x46617374_4C6F6721UL);
        var bits = new BitArray(count);
        for (int i = 0; i < count; i += 64)
        {
            ulong word = random.Next();
            for (int b = 0; b < 64 && i + b < count; b++)
                bits[i + b] = (word >> b & 1) != 0;
        }
        return bits;
    }

    /// <summary>Parses an ID; <paramref name="volatileCountAt"/> tells how many volatile writes a crash entry has.</summary>
    /// <exception cref="FormatException">Not an ID, or one that does not fit this crash point.</exception>
    public static CrashState Parse(string id, Func<int, int> volatileCountAt)
    {
        string[] parts = id.Split('-');
        if (parts.Length < 2 || parts[0].Length < 2 || parts[0][0] != 'e' || !int.TryParse(parts[0].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int entry))
            throw new FormatException($"'{id}' is not a state ID (they look like e41-A, e41-S5, e41-L0.3-T2:f)");
        int count = volatileCountAt(entry);
        string p = parts[1];
        int? sample = null;
        BitArray persisted;
        switch (p.Length > 0 ? p[0] : '?')
        {
            case 'A': persisted = new BitArray(count, true); break;
            case 'N': persisted = new BitArray(count, false); break;
            case 'R':
                sample = ParseInt(p[1..], id);
                persisted = RandomSubset(entry, count, sample.Value);
                break;
            case 'S':
                persisted = new BitArray(count);
                for (int i = 0; i < p.Length - 1; i++)
                {
                    int v = Convert.ToInt32(p[p.Length - 1 - i].ToString(), 16);
                    for (int b = 0; b < 4; b++)
                        if ((v >> b & 1) != 0) Set(persisted, i * 4 + b, true, id);
                }
                break;
            case 'L' or 'D':
                bool only = p[0] == 'L';
                persisted = new BitArray(count, !only);
                foreach (string s in p[1..].Split('.', StringSplitOptions.RemoveEmptyEntries))
                    Set(persisted, ParseInt(s, id), only, id);
                break;
            default: throw new FormatException($"'{id}': '{p}' says no persisted set (A, N, S.., L.., D.., R..)");
        }
        var modifiers = new List<StateModifier>();
        foreach (string m in parts.Skip(2))
        {
            if (m.Length < 2) throw new FormatException($"'{id}': bad modifier '{m}'");
            string[] kv = m[1..].Split(':');
            int write = ParseInt(kv[0], id);
            if (write >= count) throw new FormatException($"'{id}': crash point e{entry} has {count} volatile writes, not {write + 1}");
            modifiers.Add(m[0] switch
            {
                'T' when kv.Length == 2 => new StateModifier(WriteFate.Torn, write, ulong.Parse(kv[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture)),
                'Z' => new StateModifier(WriteFate.Zeroed, write),
                'G' => new StateModifier(WriteFate.Garbage, write),
                'O' when kv.Length == 2 => new StateModifier(WriteFate.OlderVersion, write, (ulong)ParseInt(kv[1], id)),
                _ => throw new FormatException($"'{id}': bad modifier '{m}'"),
            });
        }
        return new CrashState(entry, persisted, modifiers, "replayed", sample);
    }

    private static void Set(BitArray bits, int i, bool value, string id)
    {
        if (i >= bits.Length) throw new FormatException($"'{id}' names volatile write {i}, but its crash point has {bits.Length}");
        bits[i] = value;
    }

    private static int ParseInt(string s, string id) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : throw new FormatException($"'{id}': '{s}' is not a number");
}

/// <summary>A tiny, fast, stable generator: the same seed gives the same numbers in every .NET version.</summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public int NextInt(int bound) => (int)(Next() % (ulong)bound);
}
