using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// The initial environment of a process from <c>/proc/[pid]/environ</c> (proc_pid_environ(5)), looked up by
/// name over the raw bytes without splitting the file into strings.
/// </summary>
/// <remarks>
/// Entries are <c>NAME=value</c>, each NUL-terminated. The file shows the environment as it was at execve (plus
/// edits made in place, e.g. by ld.so to GLIBC_TUNABLES), not later setenv calls, which is what the allocator
/// read at start-up. As getenv does, a lookup returns the first entry with the name. Reading another user's
/// environ needs ptrace access: <see cref="TryRead"/> lets <see cref="UnauthorizedAccessException"/> through.
/// Kernel threads and zombies have no environment: this kernel fails the read with ESRCH, which
/// <see cref="TryRead"/> tells from an exited process by the /proc/[pid] directory still being there.
/// </remarks>
public sealed class ProcEnviron
{
    private readonly byte[] _raw;

    private ProcEnviron(byte[] raw)
    {
        _raw = raw;
        ReadOnlySpan<byte> span = raw;
        Count = span.Count((byte)0) + (span.IsEmpty || span[^1] == 0 ? 0 : 1);
    }

    /// <summary>An environment without variables (kernel threads, zombies).</summary>
    public static ProcEnviron Empty { get; } = new([]);

    /// <summary>Number of entries.</summary>
    public int Count { get; }

    /// <summary>Reads <c>/proc/[pid]/environ</c>; false when the process is gone.</summary>
    /// <exception cref="UnauthorizedAccessException">The caller may not read this process's environment.</exception>
    public static bool TryRead(ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out ProcEnviron? value)
    {
        string path = fs.ProcessPath(pid, "environ");
        if (buffer.TryLoad(path))
        {
            value = Parse(buffer.Span, path);
            return true;
        }

        // ESRCH from a task without an mm (kernel thread, zombie) looks like an exit: the directory tells them apart.
        value = Directory.Exists(fs.ProcessDirectory(pid)) ? Empty : null;
        return value is not null;
    }

    /// <summary>Copies the contents of an environ file. Pure; never throws, every byte sequence is accepted.</summary>
    /// <param name="text">The file contents.</param>
    /// <param name="source">The file name, kept for symmetry with the other readers.</param>
    public static ProcEnviron Parse(ReadOnlySpan<byte> text, string source)
    {
        _ = source;
        return text.IsEmpty ? Empty : new ProcEnviron(text.ToArray());
    }

    /// <summary>The value of the first entry named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or contains '='.</exception>
    public bool TryGetValue(string name, [NotNullWhen(true)] out string? value)
    {
        Span<byte> key = EncodeName(name, stackalloc byte[128]);
        if (TryFind(key, out ReadOnlySpan<byte> raw))
        {
            value = Encoding.UTF8.GetString(raw);
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>The value of the first entry named <paramref name="name"/>, as raw bytes; no allocation.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or contains '='.</exception>
    public bool TryGetValue(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        if (name.IsEmpty || name.IndexOf((byte)'=') >= 0)
        {
            throw new ArgumentException("an environment variable name is non-empty and has no '='", nameof(name));
        }

        return TryFind(name, out value);
    }

    /// <summary>True when a variable named <paramref name="name"/> is set (possibly to an empty value).</summary>
    public bool Contains(string name) => TryGetValue(name, out _);

    /// <summary>
    /// Every entry whose name starts with <paramref name="prefix"/> (e.g. <c>TCMALLOC_</c>, <c>DOTNET_</c>), in file
    /// order, the first of each name only.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> GetVariablesWithPrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        Span<byte> pre = Encoding.UTF8.GetByteCount(prefix) <= 128 ? stackalloc byte[128] : new byte[Encoding.UTF8.GetByteCount(prefix)];
        pre = pre[..Encoding.UTF8.GetBytes(prefix, pre)];
        var found = new List<KeyValuePair<string, string>>();
        ReadOnlySpan<byte> rest = _raw;
        while (NextEntry(ref rest, out ReadOnlySpan<byte> entry))
        {
            int eq = entry.IndexOf((byte)'=');
            if (eq < 0 || !entry.StartsWith(pre))
            {
                continue;
            }

            string name = Encoding.UTF8.GetString(entry[..eq]);
            if (!found.Exists(kv => kv.Key == name))
            {
                found.Add(new(name, Encoding.UTF8.GetString(entry[(eq + 1)..])));
            }
        }

        return found;
    }

    private bool TryFind(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        ReadOnlySpan<byte> rest = _raw;
        while (NextEntry(ref rest, out ReadOnlySpan<byte> entry))
        {
            if (entry.Length > name.Length && entry[name.Length] == (byte)'=' && entry.StartsWith(name))
            {
                value = entry[(name.Length + 1)..];
                return true;
            }
        }

        value = default;
        return false;
    }

    private static bool NextEntry(scoped ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> entry)
    {
        if (rest.IsEmpty)
        {
            entry = default;
            return false;
        }

        int nul = rest.IndexOf((byte)0);
        entry = nul < 0 ? rest : rest[..nul];
        rest = nul < 0 ? default : rest[(nul + 1)..];
        return true;
    }

    private static Span<byte> EncodeName(string name, Span<byte> scratch)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('=', StringComparison.Ordinal))
        {
            throw new ArgumentException("an environment variable name has no '='", nameof(name));
        }

        int length = Encoding.UTF8.GetByteCount(name);
        Span<byte> key = length <= scratch.Length ? scratch : new byte[length];
        return key[..Encoding.UTF8.GetBytes(name, key)];
    }
}
