using System.Globalization;

namespace FastLog.Capture;

public enum PowerFailTriggerKind { Manual, AfterWrites, AfterFlushes, AtMark, AfterSeconds }

/// <summary>
/// When a capture's power fails by itself (<c>--power-fail</c>): <c>manual</c> (only by <c>fastlog powerfail</c>),
/// <c>after-writes=N</c> (the Nth WRITE completes, the next fails), <c>after-flushes=N</c> (the Nth FLUSH
/// completes), <c>at-mark=NAME</c> (right after that mark), <c>after-seconds=S</c> (S seconds after the device is
/// up), or <c>random=SEED[:MAX]</c> (after-writes with N drawn from 1..MAX by SEED; MAX 10000 by default).
/// </summary>
public sealed record PowerFailTrigger(PowerFailTriggerKind Kind, long Count = 0, string? MarkName = null, double Seconds = 0)
{
    public const string Syntax = "manual|after-writes=N|after-flushes=N|at-mark=NAME|after-seconds=S|random=SEED[:MAX]";
    public const int DefaultRandomMaxWrites = 10_000;

    /// <summary>Its text form, which parses back to it (random=SEED becomes the after-writes it drew).</summary>
    public string Text { get; private init; } = "manual";

    public static bool TryParse(string text, out PowerFailTrigger trigger, out string? error)
    {
        trigger = new PowerFailTrigger(PowerFailTriggerKind.Manual);
        error = null;
        if (text == "manual")
            return true;
        int equals = text.IndexOf('=');
        string key = equals < 0 ? text : text[..equals], value = equals < 0 ? "" : text[(equals + 1)..];
        switch (key)
        {
            case "after-writes" or "after-flushes" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0:
                trigger = new PowerFailTrigger(key == "after-writes" ? PowerFailTriggerKind.AfterWrites : PowerFailTriggerKind.AfterFlushes, n) { Text = text };
                return true;
            case "at-mark" when value.Length > 0:
                trigger = new PowerFailTrigger(PowerFailTriggerKind.AtMark, MarkName: value) { Text = text };
                return true;
            case "after-seconds" when double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double s) && s > 0:
                trigger = new PowerFailTrigger(PowerFailTriggerKind.AfterSeconds, Seconds: s) { Text = text };
                return true;
            case "random" when TryParseRandom(value, out int seed, out int max):
                long writes = 1 + new Random(seed).Next(max);
                trigger = new PowerFailTrigger(PowerFailTriggerKind.AfterWrites, writes) { Text = $"after-writes={writes}" };
                return true;
        }
        error = $"'{text}' is not a power-fail trigger ({Syntax}; N, MAX > 0, S > 0 seconds, SEED >= 0)";
        return false;
    }

    private static bool TryParseRandom(string value, out int seed, out int max)
    {
        max = DefaultRandomMaxWrites;
        int colon = value.IndexOf(':');
        return int.TryParse(colon < 0 ? value : value[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out seed)
            && (colon < 0 || (int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out max) && max > 0));
    }
}
