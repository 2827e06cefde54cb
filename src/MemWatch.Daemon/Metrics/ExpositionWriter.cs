using System.Globalization;
using System.Text;

namespace MemWatch.Daemon.Metrics;

/// <summary>
/// Writes the Prometheus text format 0.0.4 or OpenMetrics 1.0.0 into one UTF-8 buffer: metadata per family,
/// then samples whose labels were encoded beforehand (<see cref="LabelSet"/>). No string is built per sample.
/// </summary>
/// <remarks>
/// Counters are named without <c>_total</c> here; the writer appends it to samples (and, in 0.0.4, to the family,
/// as Prometheus clients do). Call <see cref="Family"/> before the samples of each family, and <see cref="Finish"/>
/// once at the end (OpenMetrics' <c># EOF</c>). The caller may hand in a buffer and keep <see cref="Buffer"/> for the
/// next scrape: the shared array pool kept a megabyte-sized array per thread that had served a scrape.
/// </remarks>
internal sealed class ExpositionWriter
{
    private byte[] _buffer;
    private int _length;
    private MetricType _type;
    private bool _finished;

    public ExpositionWriter(ExpositionFormat format, int initialCapacity = 64 * 1024)
        : this(format, new byte[Math.Max(initialCapacity, 16)])
    {
    }

    /// <summary>Writes into <paramref name="buffer"/> from its start, growing into a new array when it is full.</summary>
    public ExpositionWriter(ExpositionFormat format, byte[] buffer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buffer.Length, 16, nameof(buffer));
        Format = format;
        _buffer = buffer;
    }

    /// <summary>The buffer written so far: the one handed in, or the larger one it grew into.</summary>
    public byte[] Buffer => _buffer;

    public ExpositionFormat Format { get; }

    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

    public void Family(string name, MetricType type, string help, string? unit = null)
    {
        _type = type;
        bool om = Format == ExpositionFormat.OpenMetrics;
        string suffix = type == MetricType.Counter && !om ? "_total" : "";
        string typeName = type switch
        {
            MetricType.Gauge => "gauge",
            MetricType.Counter => "counter",
            MetricType.Histogram => "histogram",
            MetricType.StateSet => om ? "stateset" : "gauge",
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };

        if (om)
        {
            Ascii("# TYPE "); Text(name); Ascii(" "); Ascii(typeName); NewLine();
            if (unit is not null)
            {
                Ascii("# UNIT "); Text(name); Ascii(" "); Text(unit); NewLine();
            }

            Ascii("# HELP "); Text(name); Ascii(" "); Help(help, escapeQuote: true); NewLine();
        }
        else
        {
            Ascii("# HELP "); Text(name); Ascii(suffix); Ascii(" "); Help(help, escapeQuote: false); NewLine();
            Ascii("# TYPE "); Text(name); Ascii(suffix); Ascii(" "); Ascii(typeName); NewLine();
        }
    }

    public void Sample(string name, LabelSet labels, double value) => Sample(name, labels, null, null, value);

    /// <summary>One sample, with an optional extra label after the set's (e.g. region="heap").</summary>
    public void Sample(string name, LabelSet labels, string? extraName, string? extraValue, double value)
    {
        Text(name);
        if (_type == MetricType.Counter)
        {
            Ascii("_total");
        }

        Labels(labels, extraName, extraValue, default);
        Ascii(" ");
        Number(value);
        NewLine();
    }

    /// <summary>A state set: one sample per state, 1 for <paramref name="current"/> and 0 for the others.</summary>
    public void StateSet(string name, LabelSet labels, string labelName, ReadOnlySpan<string> states, string current)
    {
        foreach (string state in states)
        {
            Text(name);
            Labels(labels, labelName, state, default);
            Ascii(state == current ? " 1" : " 0");
            NewLine();
        }
    }

    /// <summary>A histogram: cumulative buckets at <paramref name="upperBounds"/> plus +Inf, then _sum and _count.</summary>
    /// <param name="cumulativeCounts">Observations at or below each bound.</param>
    public void Histogram(
        string name, LabelSet labels, ReadOnlySpan<double> upperBounds, ReadOnlySpan<long> cumulativeCounts, double sum, long count)
    {
        Span<byte> le = stackalloc byte[32];
        for (int i = 0; i < upperBounds.Length; i++)
        {
            Text(name); Ascii("_bucket");
            upperBounds[i].TryFormat(le, out int n, "0.0###########", CultureInfo.InvariantCulture);
            Labels(labels, "le", null, le[..n]);
            Ascii(" ");
            Number(cumulativeCounts[i]);
            NewLine();
        }

        Text(name); Ascii("_bucket");
        Labels(labels, "le", "+Inf", default);
        Ascii(" "); Number(count); NewLine();
        Text(name); Ascii("_sum"); Labels(labels, null, null, default); Ascii(" "); Number(sum); NewLine();
        Text(name); Ascii("_count"); Labels(labels, null, null, default); Ascii(" "); Number(count); NewLine();
    }

    /// <summary>Ends the exposition; OpenMetrics requires the <c># EOF</c> line.</summary>
    public void Finish()
    {
        if (!_finished && Format == ExpositionFormat.OpenMetrics)
        {
            Ascii("# EOF");
            NewLine();
        }

        _finished = true;
    }

    private void Labels(LabelSet labels, string? extraName, string? extraValue, ReadOnlySpan<byte> extraRaw)
    {
        bool any = labels.Encoded.Length > 0 || extraName is not null;
        if (!any)
        {
            return;
        }

        Ascii("{");
        Bytes(labels.Encoded);
        if (extraName is not null)
        {
            if (labels.Encoded.Length > 0)
            {
                Ascii(",");
            }

            Text(extraName);
            Ascii("=\"");
            if (extraValue is not null)
            {
                EscapedLabelValue(extraValue);
            }
            else
            {
                Bytes(extraRaw);
            }

            Ascii("\"");
        }

        Ascii("}");
    }

    private void Number(double value)
    {
        if (double.IsNaN(value))
        {
            Ascii("NaN");
        }
        else if (double.IsPositiveInfinity(value))
        {
            Ascii("+Inf");
        }
        else if (double.IsNegativeInfinity(value))
        {
            Ascii("-Inf");
        }
        else
        {
            int n;
            while (!value.TryFormat(_buffer.AsSpan(_length), out n, default, CultureInfo.InvariantCulture))
            {
                Grow(32);
            }

            _length += n;
        }
    }

    private void Number(long value)
    {
        int n;
        while (!value.TryFormat(_buffer.AsSpan(_length), out n, default, CultureInfo.InvariantCulture))
        {
            Grow(24);
        }

        _length += n;
    }

    private void Help(string help, bool escapeQuote)
    {
        foreach (char c in help)
        {
            switch (c)
            {
                case '\\': Ascii("\\\\"); break;
                case '\n': Ascii("\\n"); break;
                case '"' when escapeQuote: Ascii("\\\""); break;
                default: Char(c); break;
            }
        }
    }

    private void EscapedLabelValue(string value)
    {
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': Ascii("\\\\"); break;
                case '"': Ascii("\\\""); break;
                case '\n': Ascii("\\n"); break;
                default: Char(c); break;
            }
        }
    }

    private void Char(char c)
    {
        if (c < 0x80)
        {
            Ensure(1);
            _buffer[_length++] = (byte)c;
        }
        else
        {
            Span<char> one = [c];
            Ensure(4);
            _length += Encoding.UTF8.GetBytes(one, _buffer.AsSpan(_length));
        }
    }

    private void Text(string text)
    {
        Ensure(Encoding.UTF8.GetMaxByteCount(text.Length));
        _length += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_length));
    }

    private void Ascii(string text) => Text(text);

    private void Bytes(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void NewLine()
    {
        Ensure(1);
        _buffer[_length++] = (byte)'\n';
    }

    private void Ensure(int bytes)
    {
        if (_length + bytes > _buffer.Length)
        {
            Grow(bytes);
        }
    }

    private void Grow(int atLeast)
    {
        byte[] bigger = new byte[Math.Max(_buffer.Length * 2, _length + atLeast)];
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        _buffer = bigger;
    }
}
