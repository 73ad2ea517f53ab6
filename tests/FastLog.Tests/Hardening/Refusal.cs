using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>The shape of every refusal of bad input: exit 1, the expected words, no stack trace, no hang.</summary>
internal static class Refusal
{
    /// <summary>Runs <paramref name="command"/> (a shell line) and checks it was refused with all <paramref name="words"/>.</summary>
    public static void Assert(string command, params string[] words)
    {
        (int exit, string output) = Shell.Run(command, timeoutSeconds: 20); // a hang is a TimeoutException
        Xunit.Assert.True(exit == 1, $"exit {exit}: {command}\n{output}");
        foreach (string word in words)
            Xunit.Assert.Contains(word, output);
        Xunit.Assert.DoesNotContain("Exception", output);
        Xunit.Assert.DoesNotContain("   at ", output);
    }
}
