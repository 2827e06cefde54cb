using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.Allocators;

/// <summary>
/// The XML glibc's <c>malloc_info(0, fp)</c> writes (malloc_info(3); glibc malloc/malloc.c <c>__malloc_info</c>):
/// per-arena free lists and sizes, then process totals including mmapped chunks.
/// </summary>
/// <remarks>
/// glibc writes one element per line, so this reads it line by line without an XML library; unknown elements and
/// attributes are ignored, a missing required element or a malformed number throws <see cref="ProcParseException"/>.
/// </remarks>
public sealed record MallocInfoXml(
    IReadOnlyList<MallocInfoHeap> Heaps,
    ulong FastCount,
    ulong FastBytes,
    ulong RestCount,
    ulong RestBytes,
    ulong MmapCount,
    ulong MmapBytes,
    ulong SystemCurrentBytes,
    ulong SystemMaxBytes)
{
    /// <summary>Chunk sizes up to this are fastbin sizes on 64-bit (MAX_FAST_SIZE 160, request2size).</summary>
    private const ulong MaxFastChunkBytes = 176;

    public static MallocInfoXml Parse(ReadOnlySpan<byte> text, string source)
    {
        var reader = new LineReader(text);
        var heaps = new List<MallocInfoHeap>();
        bool sawRoot = false, closed = false;
        HeapBuilder? heap = null;
        HeapBuilder totals = new(-1);
        while (reader.TryReadLine(out ReadOnlySpan<byte> raw))
        {
            ReadOnlySpan<byte> line = ByteParsing.TrimSpaces(raw);
            if (line.IsEmpty)
            {
                continue;
            }

            int n = reader.LineNumber;
            if (!sawRoot)
            {
                if (!line.StartsWith("<malloc "u8) && !line.SequenceEqual("<malloc>"u8))
                {
                    throw new ProcParseException(source, n, $"expected <malloc version=\"1\">, found '{ByteParsing.Excerpt(line)}'");
                }

                sawRoot = true;
                continue;
            }

            if (closed)
            {
                throw new ProcParseException(source, n, "content after </malloc>");
            }

            if (line.StartsWith("<heap "u8))
            {
                if (heap is not null)
                {
                    throw new ProcParseException(source, n, "<heap> inside <heap>");
                }

                heap = new HeapBuilder((int)Math.Min(Attribute(line, "nr"u8, source, n), int.MaxValue));
            }
            else if (line.SequenceEqual("</heap>"u8))
            {
                if (heap is null)
                {
                    throw new ProcParseException(source, n, "</heap> without <heap>");
                }

                heaps.Add(heap.Build(source, n));
                heap = null;
            }
            else if (line.SequenceEqual("</malloc>"u8))
            {
                if (heap is not null)
                {
                    throw new ProcParseException(source, n, "</malloc> inside an open <heap>");
                }

                closed = true;
            }
            else if (line.StartsWith("<size "u8) || line.StartsWith("<unsorted "u8))
            {
                if (heap is null)
                {
                    throw new ProcParseException(source, n, "<size> outside a <heap>");
                }

                ulong from = Attribute(line, "from"u8, source, n);
                ulong to = Attribute(line, "to"u8, source, n);
                MallocInfoBinKind kind = line.StartsWith("<unsorted "u8) ? MallocInfoBinKind.Unsorted
                    : to - from == 15 && to % 16 == 0 && to <= MaxFastChunkBytes && heap.OnlyFastSoFar ? MallocInfoBinKind.Fast
                    : MallocInfoBinKind.Regular;
                heap.AddBin(new MallocInfoBin(from, to, Attribute(line, "total"u8, source, n), Attribute(line, "count"u8, source, n), kind));
            }
            else if (line.StartsWith("<total "u8) || line.StartsWith("<system "u8) || line.StartsWith("<aspace "u8))
            {
                (heap ?? totals).Set(line, source, n);
            }
        }

        if (!sawRoot)
        {
            throw new ProcParseException(source, 0, "empty malloc_info output");
        }

        if (!closed)
        {
            throw new ProcParseException(source, reader.LineNumber, "truncated: no </malloc>");
        }

        if (totals.Fast is null || totals.Rest is null || totals.Mmap is null || totals.SystemCurrent is null)
        {
            throw new ProcParseException(source, reader.LineNumber, "the process totals (fast, rest, mmap, system current) are missing");
        }

        return new MallocInfoXml(heaps, totals.Fast.Value.Count, totals.Fast.Value.Size, totals.Rest.Value.Count, totals.Rest.Value.Size,
            totals.Mmap.Value.Count, totals.Mmap.Value.Size, totals.SystemCurrent.Value, totals.SystemMax ?? totals.SystemCurrent.Value);
    }

    /// <summary>Reads <c>name="123"</c> from an element line.</summary>
    private static ulong Attribute(ReadOnlySpan<byte> line, ReadOnlySpan<byte> name, string source, int lineNumber)
    {
        int at = 0;
        while (true)
        {
            int i = line[at..].IndexOf(name);
            if (i < 0)
            {
                throw new ProcParseException(source, lineNumber, $"attribute '{System.Text.Encoding.ASCII.GetString(name)}' missing in '{ByteParsing.Excerpt(line)}'");
            }

            i += at;
            int valueStart = i + name.Length + 2;
            bool isWholeName = i > 0 && line[i - 1] == (byte)' ';
            if (isWholeName && valueStart <= line.Length && line[(i + name.Length)..].StartsWith("=\""u8))
            {
                int end = line[valueStart..].IndexOf((byte)'"');
                if (end < 0 || !ByteParsing.TryParseUInt64(line.Slice(valueStart, end), out ulong value))
                {
                    throw new ProcParseException(source, lineNumber, $"attribute '{System.Text.Encoding.ASCII.GetString(name)}' is not a number in '{ByteParsing.Excerpt(line)}'");
                }

                return value;
            }

            at = i + name.Length;
        }
    }

    private static ReadOnlySpan<byte> TypeOf(ReadOnlySpan<byte> line)
    {
        int i = line.IndexOf(" type=\""u8);
        if (i < 0)
        {
            return default;
        }

        ReadOnlySpan<byte> rest = line[(i + 7)..];
        int end = rest.IndexOf((byte)'"');
        return end < 0 ? default : rest[..end];
    }

    private sealed class HeapBuilder(int number)
    {
        private readonly List<MallocInfoBin> _bins = [];

        public bool OnlyFastSoFar { get; private set; } = true;

        public (ulong Count, ulong Size)? Fast { get; private set; }

        public (ulong Count, ulong Size)? Rest { get; private set; }

        public (ulong Count, ulong Size)? Mmap { get; private set; }

        public ulong? SystemCurrent { get; private set; }

        public ulong? SystemMax { get; private set; }

        private ulong? AspaceTotal { get; set; }

        private ulong? AspaceMprotect { get; set; }

        private ulong? Subheaps { get; set; }

        public void AddBin(MallocInfoBin bin)
        {
            // glibc prints the fastbins first; anything after the first regular bin is regular.
            OnlyFastSoFar &= bin.Kind == MallocInfoBinKind.Fast;
            _bins.Add(bin);
        }

        public void Set(ReadOnlySpan<byte> line, string source, int n)
        {
            ReadOnlySpan<byte> type = TypeOf(line);
            ulong size = Attribute(line, "size"u8, source, n);
            if (line.StartsWith("<total "u8))
            {
                ulong count = Attribute(line, "count"u8, source, n);
                if (type.SequenceEqual("fast"u8))
                {
                    Fast = (count, size);
                }
                else if (type.SequenceEqual("rest"u8))
                {
                    Rest = (count, size);
                }
                else if (type.SequenceEqual("mmap"u8))
                {
                    Mmap = (count, size);
                }
            }
            else if (line.StartsWith("<system "u8))
            {
                if (type.SequenceEqual("current"u8))
                {
                    SystemCurrent = size;
                }
                else if (type.SequenceEqual("max"u8))
                {
                    SystemMax = size;
                }
            }
            else if (type.SequenceEqual("total"u8))
            {
                AspaceTotal = size;
            }
            else if (type.SequenceEqual("mprotect"u8))
            {
                AspaceMprotect = size;
            }
            else if (type.SequenceEqual("subheaps"u8))
            {
                Subheaps = size;
            }
        }

        public MallocInfoHeap Build(string source, int n)
        {
            if (Fast is null || Rest is null || SystemCurrent is null)
            {
                throw new ProcParseException(source, n, $"heap {number} lacks its fast/rest totals or current system size");
            }

            return new MallocInfoHeap(number, _bins, Fast.Value.Count, Fast.Value.Size, Rest.Value.Count, Rest.Value.Size,
                SystemCurrent.Value, SystemMax ?? SystemCurrent.Value, AspaceTotal, AspaceMprotect, Subheaps);
        }
    }
}
