namespace FastLog.Explorer.Report;

/// <summary>
/// Writes untrusted text (mark names, checker output, paths, command lines) into HTML text or a quoted attribute.
/// Invariant: nothing written here can open or close an element, an attribute or an entity, and no raw control
/// character reaches the page: a terminal escape shows as the text "\x1b[31m", not as colour or as an invisible
/// byte that a copy and paste would carry along (control pictures such as U+241B are missing from common fonts).
/// </summary>
internal static class HtmlText
{
    /// <summary>Escaped for element content and for attribute values in double or single quotes alike.</summary>
    public static void Write(TextWriter writer, string? text) => Write(writer, text.AsSpan());

    /// <param name="markControls">Element content only: wrap each control character's escape in a
    /// <c>span.ctl</c>, so that a reader tells it from the same characters printed by the checker.</param>
    public static void Write(TextWriter writer, ReadOnlySpan<char> text, bool markControls = false)
    {
        int safeStart = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? replacement = Replacement(text, i);
            if (replacement is null)
            {
                if (char.IsHighSurrogate(c)) i++; // a valid pair: both halves pass through
                continue;
            }
            writer.Write(text[safeStart..i]);
            bool control = markControls && replacement.StartsWith('\\');
            if (control) writer.Write("<span class=\"ctl\">");
            writer.Write(replacement);
            if (control) writer.Write("</span>");
            safeStart = i + 1;
        }
        writer.Write(text[safeStart..]);
    }

    /// <summary>The text <see cref="Write(TextWriter, string?)"/> makes visible, as a browser's textContent reads it back.</summary>
    public static string Visible(string text)
    {
        using var writer = new StringWriter();
        for (int i = 0; i < text.Length; i++)
        {
            string? replacement = Replacement(text, i);
            if (replacement is null)
            {
                writer.Write(text[i]);
                if (char.IsHighSurrogate(text[i])) writer.Write(text[++i]);
            }
            else if (replacement.StartsWith('&'))
                writer.Write(replacement switch { "&amp;" => '&', "&lt;" => '<', "&gt;" => '>', "&quot;" => '"', _ => '\'' });
            else
                writer.Write(replacement);
        }
        return writer.ToString();
    }

    /// <summary>Null when text[i] is written as it is.</summary>
    private static string? Replacement(ReadOnlySpan<char> text, int i)
    {
        char c = text[i];
        switch (c)
        {
            case '&': return "&amp;";
            case '<': return "&lt;";
            case '>': return "&gt;";
            case '"': return "&quot;";
            case '\'': return "&#39;";
            case '\n' or '\t': return null;
            // CR LF is a line end; a lone CR (a progress line redrawn in place) is shown, not obeyed.
            case '\r': return i + 1 < text.Length && text[i + 1] == '\n' ? "" : "\\r";
            case < ' ' or '\u007F': return $"\\x{(int)c:x2}";
            case >= '\u0080' and <= '\u009F': return $"\\u{(int)c:x4}"; // C1 controls (CSI as one character, among others)
        }
        if (char.IsHighSurrogate(c))
            return i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? null : "\uFFFD";
        if (char.IsLowSurrogate(c))
            return "\uFFFD"; // a low half without its high half: a valid pair's low half is skipped by the caller
        return null;
    }
}
