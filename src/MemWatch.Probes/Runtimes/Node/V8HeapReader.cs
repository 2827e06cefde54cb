using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Injection;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Runtimes.Node;

/// <summary>
/// V8's heap statistics through remote calls on the isolate's thread: <c>v8::Isolate::TryGetCurrent()</c>, then
/// <c>GetHeapStatistics</c>, <c>NumberOfHeapSpaces</c> and <c>GetHeapSpaceStatistics</c> for each space, the structs
/// written into the call's scratch block and copied back (process_vm_readv), the space names read from the
/// <c>const char*</c> each struct returns. The same calls <c>process.memoryUsage()</c> and
/// <c>v8.getHeapSpaceStatistics()</c> make inside Node.
/// </summary>
/// <remarks>
/// Layouts (include/v8-statistics.h, unchanged from V8 5 to V8 11.3 of Node 20): <c>HeapStatistics</c> begins with
/// total_heap_size, total_heap_size_executable, total_physical_size, total_available_size, used_heap_size,
/// heap_size_limit (size_t each; 14 fields in all), <c>HeapSpaceStatistics</c> is space_name (const char*),
/// space_size, space_used_size, space_available_size, physical_space_size. The callee gets a zeroed block larger than
/// the struct, and every reading is checked (<see cref="CheckLayout"/>): a space name that is not a short identifier
/// ending in <c>_space</c>, or sizes that contradict each other, mean another layout, and the reading is refused.
/// </remarks>
internal sealed class V8HeapReader
{
    /// <summary>Scratch for <c>HeapStatistics</c>: 112 bytes in V8 11.3, room for fields a later V8 appends.</summary>
    internal const int HeapStatisticsBytes = 256;

    internal const int HeapSpaceStatisticsBytes = 40;

    /// <summary>V8 11.3 has 10 spaces; more than this means the call is not what it seems.</summary>
    internal const int MaxSpaces = 32;

    internal const int MaxSpaceNameBytes = 64;

    private const string TryGetCurrent = "_ZN2v87Isolate13TryGetCurrentEv";
    private const string GetHeapStatistics = "_ZN2v87Isolate17GetHeapStatisticsEPNS_14HeapStatisticsE";
    private const string NumberOfHeapSpaces = "_ZN2v87Isolate18NumberOfHeapSpacesEv";
    private const string GetHeapSpaceStatistics = "_ZN2v87Isolate22GetHeapSpaceStatisticsEPNS_19HeapSpaceStatisticsEm";

    private readonly ulong _tryGetCurrent;
    private readonly ulong _getHeapStatistics;
    private readonly ulong _numberOfHeapSpaces;
    private readonly ulong _getHeapSpaceStatistics;

    private V8HeapReader(ulong tryGetCurrent, ulong getHeapStatistics, ulong numberOfHeapSpaces, ulong getHeapSpaceStatistics)
    {
        _tryGetCurrent = tryGetCurrent;
        _getHeapStatistics = getHeapStatistics;
        _numberOfHeapSpaces = numberOfHeapSpaces;
        _getHeapSpaceStatistics = getHeapSpaceStatistics;
    }

    /// <summary>Binds to the four exported V8 functions (the node executable or libnode.so); false with the reason when one is missing.</summary>
    public static bool TryCreate(TargetSymbols symbols, [NotNullWhen(true)] out V8HeapReader? reader, [NotNullWhen(false)] out string? reason)
    {
        reader = null;
        string[] names = [TryGetCurrent, GetHeapStatistics, NumberOfHeapSpaces, GetHeapSpaceStatistics];
        ulong[] addresses = new ulong[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (!symbols.TryResolveExport(names[i], out TargetSymbolAddress a) || a.Type != ElfSymbolType.Function)
            {
                reason = $"no module exports {names[i]} (V8's C++ API), so the heap cannot be asked";
                return false;
            }

            addresses[i] = a.Address;
        }

        reader = new V8HeapReader(addresses[0], addresses[1], addresses[2], addresses[3]);
        reason = null;
        return true;
    }

    /// <summary>The isolate's heap figures; throws <see cref="RemoteCallException"/> when a call is refused or fails.</summary>
    public RuntimeHeapFigures Read(IRemoteCallSession session, TimeSpan timeout)
    {
        ulong isolate = session.Call(_tryGetCurrent, [], [], timeout).ReturnValue;
        if (isolate == 0)
        {
            throw new RemoteCallException(RemoteCallFailure.NotSafe, $"no V8 isolate is entered on thread {session.Tid} of process {session.Pid}");
        }

        Span<byte> heap = stackalloc byte[HeapStatisticsBytes];
        heap.Clear();
        session.Call(_getHeapStatistics, [RemoteArg.Int(isolate), RemoteArg.Scratch(0)], heap, timeout);

        ulong count = session.Call(_numberOfHeapSpaces, [RemoteArg.Int(isolate)], [], timeout).ReturnValue;
        if (count is 0 or > MaxSpaces)
        {
            throw new RemoteCallException(RemoteCallFailure.CalleeFault, $"V8 reported {count} heap spaces (expected 1 to {MaxSpaces})");
        }

        var spaces = new List<RuntimeSpace>((int)count);
        Span<byte> space = stackalloc byte[HeapSpaceStatisticsBytes];
        Span<byte> name = stackalloc byte[MaxSpaceNameBytes];
        for (ulong i = 0; i < count; i++)
        {
            space.Clear();
            ulong ok = session.Call(_getHeapSpaceStatistics, [RemoteArg.Int(isolate), RemoteArg.Scratch(0), RemoteArg.Int(i)], space, timeout).ReturnValue;
            if ((ok & 0xff) == 0)
            {
                continue; // a space this build does not have
            }

            spaces.Add(ParseSpace(space, ReadName(session, BinaryPrimitives.ReadUInt64LittleEndian(space), name)));
        }

        RuntimeHeapFigures figures = FromStatistics(heap, spaces);
        CheckLayout(figures);
        return figures;
    }

    /// <summary>The figures from a <c>HeapStatistics</c> block and the spaces.</summary>
    internal static RuntimeHeapFigures FromStatistics(ReadOnlySpan<byte> heap, IReadOnlyList<RuntimeSpace> spaces) => new()
    {
        Runtime = RuntimeKind.Node,
        Source = "v8::Isolate::GetHeapStatistics",
        CommittedBytes = Field(heap, 0),
        PhysicalBytes = Field(heap, 2),
        UsedBytes = Field(heap, 4),
        MaxBytes = Field(heap, 5),
        Spaces = spaces,
    };

    /// <summary>One space from a <c>HeapSpaceStatistics</c> block: used, committed (space_size), resident (physical_space_size).</summary>
    internal static RuntimeSpace ParseSpace(ReadOnlySpan<byte> raw, string name) =>
        new(name, Field(raw, 2), Field(raw, 1), null) { PhysicalBytes = Field(raw, 4) };

    /// <summary>
    /// Refuses figures that cannot come from the documented layout: a space name that is not a lower-case identifier
    /// ending in <c>_space</c>, a heap limit of zero, more used than committed overall, spaces that add up to more than
    /// the heap.
    /// </summary>
    internal static void CheckLayout(RuntimeHeapFigures f)
    {
        ulong committed = f.CommittedBytes ?? 0;
        ulong spaces = 0;
        foreach (RuntimeSpace s in f.Spaces)
        {
            if (!IsSpaceName(s.Name))
            {
                throw Layout($"a space is named '{s.Name}'");
            }

            spaces += s.CommittedBytes;
        }

        if (f.MaxBytes is not > 0 || committed == 0 || f.UsedBytes > committed || spaces > committed)
        {
            throw Layout($"heap {committed} bytes committed, {f.UsedBytes} used, limit {f.MaxBytes}, spaces {spaces}");
        }
    }

    private static bool IsSpaceName(string name)
    {
        if (!name.EndsWith("_space", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static RemoteCallException Layout(string what) =>
        new(RemoteCallFailure.Unsupported, $"V8's heap statistics do not have the layout of include/v8-statistics.h ({what}); figures refused");

    /// <summary>A NUL-terminated name of at most <see cref="MaxSpaceNameBytes"/> bytes, read without crossing into the next page.</summary>
    private static string ReadName(IRemoteCallSession session, ulong address, Span<byte> buffer)
    {
        if (address == 0)
        {
            throw Layout("a space has no name");
        }

        ulong page = (ulong)Environment.SystemPageSize;
        int length = (int)Math.Min((ulong)buffer.Length, page - (address % page));
        Span<byte> bytes = buffer[..length];
        try
        {
            session.ReadMemory(address, bytes);
        }
        catch (IOException e)
        {
            throw Layout($"a space name at 0x{address:x} is unreadable: {e.Message}");
        }

        int end = bytes.IndexOf((byte)0);
        if (end < 0)
        {
            throw Layout($"a space name at 0x{address:x} is longer than {length} bytes");
        }

        return System.Text.Encoding.ASCII.GetString(bytes[..end]);
    }

    private static ulong Field(ReadOnlySpan<byte> raw, int index) => BinaryPrimitives.ReadUInt64LittleEndian(raw[(index * 8)..]);
}
