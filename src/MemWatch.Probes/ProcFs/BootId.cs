using System.Diagnostics.CodeAnalysis;
using System.Text;
using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>This boot's identity in <c>/proc/sys/kernel/random/boot_id</c> (proc_sys_kernel(5), random(4)).</summary>
/// <remarks>
/// A random UUID the kernel draws once per boot, e.g. <c>0f5d2b0e-7c1f-4f0a-9a3e-2b8f6d1c4e7a</c> and a newline. Process
/// start times count from boot, so a PID and start time identify a process only together with it.
/// </remarks>
public sealed record BootId(string Value)
{
    /// <summary>Reads <c>{root}/sys/kernel/random/boot_id</c>; false when it cannot be read.</summary>
    /// <exception cref="ProcParseException">The file is not one UUID and a newline.</exception>
    public static bool TryRead(ProcFileSystem fs, FileBuffer buffer, [NotNullWhen(true)] out BootId? value)
    {
        string path = fs.SystemPath("sys/kernel/random/boot_id");
        if (!buffer.TryLoad(path))
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }

    /// <summary>Parses the contents of boot_id. Pure.</summary>
    /// <exception cref="ProcParseException">Not one UUID and a newline.</exception>
    public static BootId Parse(ReadOnlySpan<byte> text, string source)
    {
        ProcText.RequireNewlineTerminated(text, source);
        string id = Encoding.ASCII.GetString(text[..^1]);
        if (!Guid.TryParseExact(id, "D", out _))
        {
            throw new ProcParseException(source, 1, "not a UUID");
        }

        return new BootId(id);
    }
}
