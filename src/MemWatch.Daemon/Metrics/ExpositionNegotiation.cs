namespace MemWatch.Daemon.Metrics;

/// <summary>Chooses the exposition format from an Accept header, as Prometheus's scrape negotiation expects.</summary>
internal static class ExpositionNegotiation
{
    public const string PrometheusTextContentType = "text/plain; version=0.0.4; charset=utf-8";
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// <summary>OpenMetrics when the header accepts application/openmetrics-text at version 1.0.0 (or unversioned) with q above 0.</summary>
    public static ExpositionFormat Choose(string? accept)
    {
        if (string.IsNullOrEmpty(accept))
        {
            return ExpositionFormat.PrometheusText;
        }

        foreach (Range range in accept.AsSpan().Split(','))
        {
            ReadOnlySpan<char> mediaRange = accept.AsSpan()[range];
            bool openMetrics = false;
            bool versionOk = true;
            bool accepted = true;
            int part = 0;
            foreach (Range p in mediaRange.Split(';'))
            {
                ReadOnlySpan<char> token = mediaRange[p].Trim();
                if (part++ == 0)
                {
                    openMetrics = token.Equals("application/openmetrics-text", StringComparison.OrdinalIgnoreCase);
                    continue;
                }

                if (token.StartsWith("version=", StringComparison.OrdinalIgnoreCase))
                {
                    versionOk = token[8..].Trim('"').SequenceEqual("1.0.0");
                }
                else if (token.StartsWith("q=", StringComparison.OrdinalIgnoreCase))
                {
                    accepted = !double.TryParse(token[2..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double q) || q > 0;
                }
            }

            if (openMetrics && versionOk && accepted)
            {
                return ExpositionFormat.OpenMetrics;
            }
        }

        return ExpositionFormat.PrometheusText;
    }

    public static string ContentType(ExpositionFormat format) =>
        format == ExpositionFormat.OpenMetrics ? OpenMetricsContentType : PrometheusTextContentType;
}
