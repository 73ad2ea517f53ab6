using System.Text.Json;
using FastLog.LogFormat;
using FastLog.Tests.Support;

namespace FastLog.Tests.Hardening;

/// <summary>
/// Mark names are log-derived text: in inspect's text report they cannot forge lines, send terminal escapes or
/// NULs, and invalid UTF-8 shows as an escape; the JSON report keeps the names exactly (its writer escapes).
/// </summary>
public sealed class OutputInjectionTests : IDisposable
{
    private static readonly string[] Names = ["x\nDAMAGED: none", "\u001b[31mred\u001b[0m", "a\0b", "back\\slash", "rtl\u202Eevil", "caf\u00e9 \u65e5\u672c"];
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string HostileLog()
    {
        var bytes = new LogBytes(512);
        foreach (string name in Names)
            bytes.Mark(name);
        bytes.Mark("??"); // becomes the invalid UTF-8 bytes ff fe below
        byte[] log = bytes.ToArray();
        int lastHeader = 512 * Names.Length + 512;
        log[lastHeader + 32] = 0xff;
        log[lastHeader + 33] = 0xfe;
        string path = _dir.File("names.log");
        File.WriteAllBytes(path, log);
        return path;
    }

    [Fact]
    public void TextReportEscapesMarkNames()
    {
        string log = HostileLog();
        foreach (string arguments in (string[])["", "--entries"])
        {
            string text = Shell.Check($"{FastlogBinary.Path} inspect {arguments} {log}");
            Assert.DoesNotContain('\u001b', text);
            Assert.DoesNotContain('\0', text);
            Assert.DoesNotContain('\u202E', text);
            Assert.DoesNotContain('\uFFFD', text);
            Assert.DoesNotContain("\nDAMAGED", text);
            Assert.Contains(@"x\nDAMAGED: none", text);
            Assert.Contains(@"\x1b[31mred\x1b[0m", text);
            Assert.Contains(@"a\x00b", text);
            Assert.Contains(@"back\\slash", text);
            Assert.Contains(@"rtl\u202eevil", text);
            Assert.Contains(@"\ufffd\ufffd", text);
            Assert.Contains("caf\u00e9 \u65e5\u672c", text); // printable text of any script is left alone
        }
    }

    [Fact]
    public void JsonReportKeepsTheNamesExactly()
    {
        string json = Shell.Check($"{FastlogBinary.Path} inspect --json {HostileLog()}");
        using var document = JsonDocument.Parse(json);
        string[] names = document.RootElement.GetProperty("logs")[0].GetProperty("markList").EnumerateArray()
            .Select(m => m.GetProperty("name").GetString()!).ToArray();
        Assert.Equal([.. Names, "\uFFFD\uFFFD"], names);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("tab\there", @"tab\there")]
    [InlineData("\u0085next-line \u2028sep", @"\x85next-line \u2028sep")]
    [InlineData("emoji \ud83d\ude00", "emoji \ud83d\ude00")]
    public void EscapeRules(string raw, string shown) => Assert.Equal(shown, TerminalText.Escape(raw));

    [Fact]
    public void ALoneSurrogateIsEscaped() => // built at run time: attribute metadata would not keep it
        Assert.Equal(@"\ud800lone", TerminalText.Escape(new string((char)0xD800, 1) + "lone"));
}
