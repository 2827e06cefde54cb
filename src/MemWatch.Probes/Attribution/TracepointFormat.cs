using System.Globalization;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// The field layout of one tracepoint from its tracefs <c>events/&lt;system&gt;/&lt;name&gt;/format</c> file, e.g.
/// <c>field:unsigned long len;	offset:24;	size:8;	signed:0;</c>: where each field lies in a PERF_SAMPLE_RAW record.
/// </summary>
public sealed class TracepointFormat
{
    private readonly Dictionary<string, (int Offset, int Size)> _fields;

    private TracepointFormat(int id, Dictionary<string, (int Offset, int Size)> fields)
    {
        Id = id;
        _fields = fields;
    }

    /// <summary>The tracepoint id: perf_event_attr.config for PERF_TYPE_TRACEPOINT.</summary>
    public int Id { get; }

    public bool TryGetField(string name, out int offset, out int size)
    {
        bool found = _fields.TryGetValue(name, out (int Offset, int Size) f);
        offset = f.Offset;
        size = f.Size;
        return found;
    }

    /// <summary>Parses a format file. Throws <see cref="ProcParseException"/> when it has no ID line or a malformed field line.</summary>
    public static TracepointFormat Parse(string text, string source)
    {
        int? id = null;
        var fields = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.StartsWith("ID:", StringComparison.Ordinal))
            {
                if (!int.TryParse(line.AsSpan(3).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value))
                {
                    throw new ProcParseException(source, lineNumber, "malformed ID line");
                }

                id = value;
                continue;
            }

            if (!line.StartsWith("field:", StringComparison.Ordinal))
            {
                continue;
            }

            string? declaration = null;
            int offset = -1;
            int size = -1;
            foreach (string part in line.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                int colon = part.IndexOf(':');
                if (colon < 0)
                {
                    continue;
                }

                string key = part[..colon];
                string value = part[(colon + 1)..].Trim();
                switch (key)
                {
                    case "field":
                        declaration = value;
                        break;
                    case "offset":
                        offset = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int o) ? o : -1;
                        break;
                    case "size":
                        size = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int s) ? s : -1;
                        break;
                }
            }

            if (declaration is null || offset < 0 || size <= 0)
            {
                throw new ProcParseException(source, lineNumber, "malformed field line");
            }

            // "unsigned long len" -> len; "char name[16]" -> name.
            string name = declaration.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
            int bracket = name.IndexOf('[');
            fields[bracket >= 0 ? name[..bracket] : name] = (offset, size);
        }

        return id is { } i ? new TracepointFormat(i, fields) : throw new ProcParseException(source, 0, "no ID line");
    }
}
