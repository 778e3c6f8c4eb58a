using System.Globalization;
using System.Net;
using System.Text;

namespace AutoDropout.Cli;

/// <summary>One part of a report; the same blocks are written as Markdown and as HTML, so both say the same.</summary>
public abstract record ReportBlock;

public sealed record ReportHeading(int Level, string Text) : ReportBlock;

public sealed record ReportParagraph(string Text) : ReportBlock;

/// <param name="File">A PNG next to the report, named relative to it.</param>
public sealed record ReportImage(string File, string Caption) : ReportBlock;

public sealed record ReportTable(IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows) : ReportBlock;

/// <summary>A report as a list of blocks, written as Markdown and as one HTML page that links its PNGs by relative path.</summary>
public sealed record ReportDocument(string Title, IReadOnlyList<ReportBlock> Blocks)
{
    public IEnumerable<string> Images => Blocks.OfType<ReportImage>().Select(i => i.File);

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.Append("# ").Append(Title).Append("\n\n");
        foreach (var block in Blocks)
        {
            switch (block)
            {
                case ReportHeading h:
                    md.Append('#', h.Level + 1).Append(' ').Append(h.Text).Append("\n\n");
                    break;
                case ReportParagraph p:
                    md.Append(p.Text).Append("\n\n");
                    break;
                case ReportImage i:
                    // the alt text is not shown, so the caption follows as text
                    md.Append("![").Append(Path.GetFileNameWithoutExtension(i.File)).Append("](").Append(i.File).Append(")\n\n")
                        .Append('*').Append(i.Caption).Append("*\n\n");
                    break;
                case ReportTable t:
                    md.Append(MarkdownRow(t.Headers)).Append('\n');
                    md.Append(MarkdownRow(t.Headers.Select(_ => "---").ToList())).Append('\n');
                    foreach (var row in t.Rows) md.Append(MarkdownRow(row)).Append('\n');
                    md.Append('\n');
                    break;
                default:
                    throw new InvalidOperationException($"unknown block {block.GetType().Name}");
            }
        }
        return md.ToString();
    }

    public string ToHtml()
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(Encode(Title)).Append("</title>\n")
            .Append("<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}")
            .Append("table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}")
            .Append("img{max-width:100%}figcaption{color:#555}</style>\n</head>\n<body>\n");
        html.Append("<h1>").Append(Encode(Title)).Append("</h1>\n");
        foreach (var block in Blocks)
        {
            switch (block)
            {
                case ReportHeading h:
                    var tag = "h" + (h.Level + 1).ToString(CultureInfo.InvariantCulture);
                    html.Append('<').Append(tag).Append('>').Append(Encode(h.Text)).Append("</").Append(tag).Append(">\n");
                    break;
                case ReportParagraph p:
                    html.Append("<p>").Append(Encode(p.Text)).Append("</p>\n");
                    break;
                case ReportImage i:
                    html.Append("<figure><img src=\"").Append(Encode(i.File)).Append("\" alt=\"").Append(Encode(i.Caption))
                        .Append("\"><figcaption>").Append(Encode(i.Caption)).Append("</figcaption></figure>\n");
                    break;
                case ReportTable t:
                    html.Append("<table>\n<tr>");
                    foreach (var header in t.Headers) html.Append("<th>").Append(Encode(header)).Append("</th>");
                    html.Append("</tr>\n");
                    foreach (var row in t.Rows)
                    {
                        html.Append("<tr>");
                        foreach (var cell in row) html.Append("<td>").Append(Encode(cell)).Append("</td>");
                        html.Append("</tr>\n");
                    }
                    html.Append("</table>\n");
                    break;
                default:
                    throw new InvalidOperationException($"unknown block {block.GetType().Name}");
            }
        }
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    // a '|' inside a cell would end it early
    private static string MarkdownRow(IEnumerable<string> cells) => "| " + string.Join(" | ", cells.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))) + " |";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
