using System.Text;

namespace LoxiLb.Edge5G.Cli.Client;

/// <summary>
/// loxicmd-style tables: upper-case headers, cells left-aligned and padded to the widest
/// value of their column, '|' borders and a dashed rule under the header.
/// <code>
/// | IDENT | SESSION IP |
/// |-------|------------|
/// | user1 | 192.0.2.10 |
/// </code>
/// </summary>
public static class TextTable
{
    public static string Render(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in all)
        {
            if (row.Count != headers.Count)
                throw new ArgumentException($"a row has {row.Count} cells for {headers.Count} columns", nameof(rows));
            for (int i = 0; i < row.Count; i++)
                widths[i] = Math.Max(widths[i], row[i].Length);
        }
        var text = new StringBuilder();
        Line(text, headers, widths);
        text.Append('|');
        foreach (var w in widths)
            text.Append('-', w + 2).Append('|');
        text.Append('\n');
        foreach (var row in all)
            Line(text, row, widths);
        return text.ToString();
    }

    private static void Line(StringBuilder text, IReadOnlyList<string> cells, int[] widths)
    {
        text.Append('|');
        for (int i = 0; i < cells.Count; i++)
            text.Append(' ').Append(cells[i].PadRight(widths[i])).Append(" |");
        text.Append('\n');
    }
}
