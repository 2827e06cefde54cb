using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.Symbols;

/// <summary>
/// The bytes of an ELF file, either held in memory or read on demand from an open file, with every read
/// checked against the file's length so that hostile offsets can never read out of bounds.
/// </summary>
internal sealed class ElfImage : IDisposable
{
    // Symbol and string tables of real libraries are a few MB; anything larger is treated as hostile.
    private const ulong MaxReadBytes = 256UL * 1024 * 1024;

    private readonly byte[]? _bytes;
    private readonly SafeFileHandle? _handle;

    private ElfImage(byte[]? bytes, SafeFileHandle? handle, long length, string source)
    {
        _bytes = bytes;
        _handle = handle;
        Length = (ulong)length;
        Source = source;
    }

    public ulong Length { get; }

    public string Source { get; }

    /// <summary>The open file, or null for an in-memory image (for fstat: the identity of exactly what was read).</summary>
    public SafeFileHandle? Handle => _handle;

    public static ElfImage FromBytes(byte[] bytes, string source) => new(bytes, null, bytes.Length, source);

    public static ElfImage OpenFile(string path)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        try
        {
            return new ElfImage(null, handle, RandomAccess.GetLength(handle), path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>An image over a descriptor already opened and checked (<see cref="Files.ProcessRoot"/>); takes ownership.</summary>
    public static ElfImage FromHandle(SafeFileHandle handle, string source)
    {
        try
        {
            return new ElfImage(null, handle, RandomAccess.GetLength(handle), source);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>True when [offset, offset+length) lies inside the file.</summary>
    public bool Contains(ulong offset, ulong length) => offset <= Length && length <= Length - offset;

    /// <summary>Reads [offset, offset+length); throws <see cref="ProcParseException"/> naming <paramref name="what"/> when it is outside the file.</summary>
    public byte[] Read(ulong offset, ulong length, string what)
    {
        if (!Contains(offset, length) || length > MaxReadBytes)
        {
            throw new ProcParseException(Source, 0,
                $"{what} (offset 0x{offset:x}, size 0x{length:x}) lies outside the 0x{Length:x}-byte file");
        }

        var result = new byte[length];
        if (_bytes is not null)
        {
            _bytes.AsSpan((int)offset, (int)length).CopyTo(result);
            return result;
        }

        int done = 0;
        while (done < result.Length)
        {
            int n = RandomAccess.Read(_handle!, result.AsSpan(done), (long)offset + done);
            if (n == 0)
            {
                throw new ProcParseException(Source, 0, $"{what}: the file ended early (it shrank while being read)");
            }

            done += n;
        }

        return result;
    }

    public void Dispose() => _handle?.Dispose();
}
