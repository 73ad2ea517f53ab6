using System.Globalization;
using System.Text;

namespace FastLog.LogFormat;

/// <summary>
/// Makes text that came from a log (mark names, and paths and messages that embed them) safe to print in a
/// line-oriented report: a name could otherwise start a new line that forges a report line ("DAMAGED: none"),
/// send terminal escapes, or carry NULs. Control characters, line and paragraph separators, bidirectional and
/// invisible format characters, lone surrogates and U+FFFD (what invalid UTF-8 decodes to) become C-style escapes;
/// a backslash is doubled so every escape reads back unambiguously. Printable text, any script, is unchanged.
/// JSON output needs none of this: its writer escapes on its own.
/// </summary>
public static class TerminalText
{
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return text ?? "";
        int first = 0;
        while (first < text.Length && !NeedsEscape(text, first))
            first++;
        if (first == text.Length)
            return text;
        var escaped = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                escaped.Append(c).Append(text[++i]);
                continue;
            }
            if (!NeedsEscape(text, i))
            {
                escaped.Append(c);
                continue;
            }
            escaped.Append(c switch
            {
                '\\' => @"\\",
                '\n' => @"\n",
                '\r' => @"\r",
                '\t' => @"\t",
                _ when c <= 0xff => $@"\x{(int)c:x2}",
                _ => $@"\u{(int)c:x4}",
            });
        }
        return escaped.ToString();
    }

    private static bool NeedsEscape(string text, int i)
    {
        char c = text[i];
        if (c == '\\' || c == '\uFFFD' || char.IsControl(c))
            return true;
        if (char.IsSurrogate(c))
            return !(char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                   && !(char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(text[i - 1]));
        UnicodeCategory category = CharUnicodeInfo.GetUnicodeCategory(c);
        return category is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Format;
    }
}
