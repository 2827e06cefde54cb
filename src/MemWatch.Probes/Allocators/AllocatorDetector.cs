using System.Diagnostics.CodeAnalysis;
using System.Text;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Allocators;

/// <summary>
/// Detects the allocator of a process from the files it maps (<c>/proc/PID/maps</c>, proc(5)): <c>libjemalloc.so*</c>,
/// <c>libtcmalloc*.so*</c> (gperftools), <c>ld-musl-*.so.1</c>, <c>libc.so.6</c>, and <c>libcoreclr.so</c> for .NET.
/// </summary>
/// <remarks>
/// A preloaded or linked jemalloc/tcmalloc wins over libc, which every dynamically linked process maps anyway.
/// Allocators linked statically into the executable are only visible in its ELF symbols: pass a
/// <c>hasSymbol(path, symbol)</c> delegate (the ELF symbol reader) to look for <c>mallctl</c>/<c>je_mallctl</c> (jemalloc),
/// <c>tc_malloc</c> (gperftools) and <c>MallocExtension_Internal_GetNumericProperty</c> (google/tcmalloc). The delegate
/// receives paths under <see cref="RootPrefix"/> (<c>/proc/PID/root</c> when detecting a live process, so paths inside
/// containers resolve). A library that is mapped but not the active malloc (dlopen'ed with RTLD_LOCAL) is not told apart.
/// </remarks>
public sealed class AllocatorDetector
{
    private const string GoogleTcmallocSymbol = "MallocExtension_Internal_GetNumericProperty";

    private readonly Func<string, string, bool>? _hasSymbol;
    private string? _executable;
    private string? _jemalloc;
    private string? _tcmalloc;
    private string? _musl;
    private string? _libc;
    private bool _coreclr;

    /// <param name="hasSymbol">Optional ELF symbol lookup: true when the file at the path defines the symbol.</param>
    public AllocatorDetector(Func<string, string, bool>? hasSymbol = null)
    {
        _hasSymbol = hasSymbol;
    }

    /// <summary>Prefix put before mapped paths handed to the symbol delegate (e.g. <c>/proc/1234/root</c>); empty by default.</summary>
    public string RootPrefix { get; set; } = "";

    /// <summary>Forgets everything observed, to detect another process.</summary>
    public void Reset()
    {
        _executable = _jemalloc = _tcmalloc = _musl = _libc = null;
        _coreclr = false;
    }

    /// <summary>Looks at one mapping. Cheap: only file mappings at offset 0 are examined, and strings are made only for matches.</summary>
    public void Observe(in MappingHeader mapping)
    {
        ReadOnlySpan<byte> path = mapping.Path;
        if (mapping.Offset != 0 || path.IsEmpty || path[0] != (byte)'/')
        {
            return;
        }

        ReadOnlySpan<byte> name = path[(path.LastIndexOf((byte)'/') + 1)..];
        // The executable is mapped first (lowest address) in every layout the kernel produces for ELF programs.
        _executable ??= Encoding.UTF8.GetString(path);

        if (name.StartsWith("libjemalloc.so"u8))
        {
            _jemalloc ??= Encoding.UTF8.GetString(path);
        }
        else if (name.StartsWith("libtcmalloc"u8) && name.IndexOf(".so"u8) >= 0)
        {
            _tcmalloc ??= Encoding.UTF8.GetString(path);
        }
        else if (name.StartsWith("ld-musl-"u8) && name.IndexOf(".so.1"u8) >= 0)
        {
            _musl ??= Encoding.UTF8.GetString(path);
        }
        else if (name.StartsWith("libc.so.6"u8))
        {
            _libc ??= Encoding.UTF8.GetString(path);
        }
        else if (name.StartsWith("libcoreclr.so"u8))
        {
            _coreclr = true;
        }
    }

    /// <summary>The allocator, from what <see cref="Observe"/> saw.</summary>
    /// <param name="executablePath">The executable (as the target sees it); defaults to the first file mapped.</param>
    public AllocatorInfo Complete(string? executablePath = null)
    {
        string? exe = executablePath ?? _executable;
        if (_jemalloc is not null)
        {
            return new AllocatorInfo(AllocatorKind.Jemalloc, _jemalloc, _coreclr, false);
        }

        if (_tcmalloc is not null)
        {
            AllocatorKind kind = HasSymbol(_tcmalloc, GoogleTcmallocSymbol) ? AllocatorKind.GoogleTcmalloc : AllocatorKind.GperftoolsTcmalloc;
            return new AllocatorInfo(kind, _tcmalloc, _coreclr, false);
        }

        if (exe is not null && _hasSymbol is not null)
        {
            AllocatorKind embedded =
                HasSymbol(exe, GoogleTcmallocSymbol) ? AllocatorKind.GoogleTcmalloc
                : HasSymbol(exe, "tc_malloc") ? AllocatorKind.GperftoolsTcmalloc
                : HasSymbol(exe, "mallctl") || HasSymbol(exe, "je_mallctl") ? AllocatorKind.Jemalloc
                : AllocatorKind.Unknown;
            if (embedded != AllocatorKind.Unknown)
            {
                return new AllocatorInfo(embedded, exe, _coreclr, true);
            }
        }

        if (_musl is not null)
        {
            return new AllocatorInfo(AllocatorKind.Musl, _musl, _coreclr, false);
        }

        return _libc is not null
            ? new AllocatorInfo(AllocatorKind.Glibc, _libc, _coreclr, false)
            : new AllocatorInfo(AllocatorKind.Unknown, null, _coreclr, false);
    }

    /// <summary>Detects the allocator of a live process from <c>/proc/PID/maps</c>. Returns false when the process is gone.</summary>
    /// <exception cref="UnauthorizedAccessException">No access to the process's maps.</exception>
    /// <exception cref="ProcParseException">Malformed maps.</exception>
    public static bool TryDetect(
        ProcFileSystem fs,
        int pid,
        FileBuffer buffer,
        [NotNullWhen(true)] out AllocatorInfo? info,
        Func<string, string, bool>? hasSymbol = null)
    {
        info = null;
        if (!ProcMaps.TryRead(fs, pid, buffer, out ProcMapsEnumerator maps))
        {
            return false;
        }

        var detector = new AllocatorDetector(hasSymbol) { RootPrefix = fs.ProcessPath(pid, "root") };
        foreach (MappingHeader mapping in maps)
        {
            detector.Observe(mapping);
        }

        info = detector.Complete();
        return true;
    }

    private bool HasSymbol(string path, string symbol) => _hasSymbol is not null && _hasSymbol(RootPrefix + path, symbol);
}
