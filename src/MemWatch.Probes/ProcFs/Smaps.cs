using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// Streaming reader for <c>/proc/PID/smaps</c> (proc(5); kernel Documentation/filesystems/proc.rst): every mapping with
/// all its fields, read in chunks into one reusable buffer and yielded one <see cref="SmapsEntry"/> at a time.
/// </summary>
/// <remarks>
/// A process with 60,000 mappings has a smaps of about 50 MB, so the file is never held whole: the buffer (256 KiB by
/// default) holds the records not yet yielded, carried over between reads, and grows only when a single record is larger
/// than the buffer. Reusing one instance makes steady-state reads allocation-free apart from the file handle and path.
/// Not thread safe: one instance per sampling thread, one open reader at a time.
/// </remarks>
public sealed class Smaps
{
    public const int DefaultBufferBytes = 256 * 1024;

    public Smaps(int bufferBytes = DefaultBufferBytes)
    {
        Buffer = new byte[Math.Max(bufferBytes, 64)];
    }

    /// <summary>Largest single record accepted; a larger one is malformed input.</summary>
    public int MaxRecordBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Current buffer size in bytes (grows only for a record larger than the buffer).</summary>
    public int BufferBytes => Buffer.Length;

    internal byte[] Buffer { get; set; }

    /// <summary>Enumerates smaps text held in memory. Pure; the reader throws <see cref="ProcParseException"/> on malformed input.</summary>
    public static SmapsReader Parse(ReadOnlySpan<byte> text, string source) => new(text, source);

    /// <summary>
    /// Opens <c>/proc/PID/smaps</c> for streaming. Returns false when the process is gone. Dispose the reader
    /// (or enumerate it with <c>foreach</c>) to close the file.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">No ptrace-read access to the process.</exception>
    public bool TryOpen(ProcFileSystem fs, int pid, out SmapsReader reader) => TryOpenFile(fs.ProcessPath(pid, "smaps"), out reader);

    /// <summary>Opens a smaps file by path (a fixture, or a copy) for streaming; false when it does not exist.</summary>
    public bool TryOpenFile(string path, out SmapsReader reader)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception e) when (FileBuffer.IsGone(e))
        {
            reader = default;
            return false;
        }

        reader = new SmapsReader(this, handle, path);
        return true;
    }
}
