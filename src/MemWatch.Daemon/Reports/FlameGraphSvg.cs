using System.Globalization;
using System.Security;
using System.Text;

namespace MemWatch.Daemon.Reports;

/// <summary>
/// A self-contained SVG flame graph of folded stacks (<c>root;...;leaf bytes</c>): roots at the bottom, each frame as
/// wide as the bytes under it, a tooltip (&lt;title&gt;) per frame with its bytes and share. No script, no external
/// reference: it opens as is in a browser.
/// </summary>
internal static class FlameGraphSvg
{
    private const int Width = 1200;
    private const int FrameHeight = 16;
    private const int Top = 40;
    private const double MinWidth = 0.3;

    private sealed class Node(string name)
    {
        public string Name { get; } = name;

        public long Bytes { get; set; }

        public Dictionary<string, Node> Children { get; } = new(StringComparer.Ordinal);
    }

    public static string Render(IReadOnlyList<string> folded, string title)
    {
        var root = new Node("all");
        foreach (string line in folded)
        {
            int space = line.LastIndexOf(' ');
            if (space <= 0 || !long.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long bytes) || bytes <= 0)
            {
                continue;
            }

            root.Bytes += bytes;
            Node node = root;
            foreach (string frame in line[..space].Split(';'))
            {
                if (!node.Children.TryGetValue(frame, out Node? child))
                {
                    child = new Node(frame);
                    node.Children[frame] = child;
                }

                child.Bytes += bytes;
                node = child;
            }
        }

        int depth = Depth(root);
        int height = Top + ((depth + 1) * FrameHeight) + 20;
        var sb = new StringBuilder();
        CultureInfo inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"monospace\" font-size=\"11\">").AppendLine();
        sb.Append(inv, $"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{height}\" fill=\"#fdfdf5\"/>").AppendLine();
        sb.Append(inv, $"<text x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>").AppendLine();
        if (root.Bytes > 0)
        {
            Draw(sb, root, 10, Width - 20, 0, depth, root.Bytes);
        }
        else
        {
            sb.Append(inv, $"<text x=\"{Width / 2}\" y=\"{Top + 20}\" text-anchor=\"middle\">no growth to attribute</text>").AppendLine();
        }

        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static void Draw(StringBuilder sb, Node node, double x, double width, int level, int depth, long total)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        double y = Top + ((depth - level) * FrameHeight);
        string label = $"{node.Name} ({ByteSize.Format((ulong)node.Bytes)}, {100.0 * node.Bytes / total:0.0}%)";
        int hash = 0;
        foreach (char c in node.Name)
        {
            hash = (hash * 31) + c;
        }

        string fill = $"rgb({205 + (Math.Abs(hash) % 50)},{80 + (Math.Abs(hash / 7) % 120)},{40 + (Math.Abs(hash / 13) % 40)})";
        sb.Append(inv, $"<g><title>{Escape(label)}</title><rect x=\"{x:0.##}\" y=\"{y}\" width=\"{width:0.##}\" height=\"{FrameHeight - 1}\" fill=\"{fill}\" rx=\"2\"/>");
        int chars = (int)(width / 7);
        if (chars >= 3)
        {
            string text = node.Name.Length <= chars ? node.Name : node.Name[..(chars - 2)] + "..";
            sb.Append(inv, $"<text x=\"{x + 3:0.##}\" y=\"{y + FrameHeight - 4}\">{Escape(text)}</text>");
        }

        sb.AppendLine("</g>");
        double childX = x;
        foreach (Node child in node.Children.Values.OrderByDescending(c => c.Bytes))
        {
            double w = width * child.Bytes / node.Bytes;
            if (w >= MinWidth)
            {
                Draw(sb, child, childX, w, level + 1, depth, total);
            }

            childX += w;
        }
    }

    private static int Depth(Node node) => node.Children.Count == 0 ? 0 : 1 + node.Children.Values.Max(Depth);

    private static string Escape(string s) => SecurityElement.Escape(s) ?? "";
}
