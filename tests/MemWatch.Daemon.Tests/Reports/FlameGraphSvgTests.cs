using System.Globalization;
using System.Xml.Linq;
using MemWatch.Daemon.Reports;

namespace MemWatch.Daemon.Tests.Reports;

public sealed class FlameGraphSvgTests
{
    [Fact]
    public void Render_FoldedStacks_IsWellFormedSvgWithFramesAsWideAsTheirBytes()
    {
        string svg = FlameGraphSvg.Render(
            ["main (a);leak<int> (a);malloc (libc.so.6) 3000", "main (a);churn & co (a) 1000", "garbage line", "main (a);x -5"],
            "growth of <pid>");

        XDocument doc = XDocument.Parse(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", doc.Root!.Name);
        Assert.Empty(doc.Descendants(ns + "script"));
        Assert.DoesNotContain("href", svg);

        double Width(string frame) => double.Parse(doc.Descendants(ns + "g")
            .Single(g => g.Element(ns + "title")!.Value.StartsWith(frame + " (", StringComparison.Ordinal))
            .Element(ns + "rect")!.Attribute("width")!.Value, CultureInfo.InvariantCulture);

        Assert.Equal(Width("main (a)"), Width("all"), 1);
        Assert.Equal(3.0, Width("leak<int> (a)") / Width("churn & co (a)"), 2);
        Assert.Equal(Width("leak<int> (a)"), Width("malloc (libc.so.6)"), 1);
        Assert.Contains(doc.Descendants(ns + "title"), t => t.Value == "leak<int> (a) (2.93 KiB, 75.0%)");
    }

    [Fact]
    public void Render_NoStacks_SaysNoGrowth()
    {
        string svg = FlameGraphSvg.Render([], "t");
        Assert.Contains("no growth to attribute", svg);
        XDocument.Parse(svg);
    }
}
