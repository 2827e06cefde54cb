using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// A reusable buffer that holds one whole kernel file. /proc files report a size of 0 or 4096 whatever
/// their length, so the file is read until end of file, growing the buffer as needed; a buffer that is
/// reused across samples makes steady-state reads allocation-free apart from the file handle.
/// </summary>
/// <remarks>Not thread safe: one buffer per sampling thread.</remarks>
public sealed class FileBuffer
{
    private byte[] _data;
    private int _length;

    public FileBuffer(int initialCapacity = 16 * 1024)
    {
        _data = new byte[Math.Max(initialCapacity, 256)];
    }

    /// <summary>The bytes of the file last loaded.</summary>
    public ReadOnlySpan<byte> Span => _data.AsSpan(0, _length);

    /// <summary>Largest file this buffer will hold; larger files throw <see cref="ProcParseException"/>.</summary>
    public int MaxBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>
    /// Reads the whole file at <paramref name="path"/>. Returns false when the file or its process is gone
    /// (ENOENT, ESRCH): for a /proc/PID path that means the process exited, a normal event.
    /// Throws <see cref="UnauthorizedAccessException"/> on EACCES/EPERM.
    /// </summary>
    public bool TryLoad(string path)
    {
        _length = 0;
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception e) when (IsGone(e))
        {
            return false;
        }

        using (handle)
        {
            try
            {
                while (true)
                {
                    if (_length == _data.Length)
                    {
                        if (_data.Length >= MaxBytes)
                        {
                            throw new ProcParseException(path, 0, $"file is larger than the {MaxBytes} byte limit");
                        }

                        Array.Resize(ref _data, (int)Math.Min((long)_data.Length * 2, MaxBytes));
                    }

                    // Sequential reads: offsets in seq_file-backed /proc files are positions in the
                    // generated text, so pread at the running length is equivalent to read().
                    int n = RandomAccess.Read(handle, _data.AsSpan(_length), _length);
                    if (n == 0)
                    {
                        return true;
                    }

                    _length += n;
                }
            }
            catch (Exception e) when (IsGone(e))
            {
                _length = 0;
                return false;
            }
        }
    }

    /// <summary>ENOENT or ESRCH: the file, or the process behind a /proc/PID path, no longer exists.</summary>
    internal static bool IsGone(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => true,
        IOException io => io.HResult is Errno.ENOENT or Errno.ESRCH,
        _ => false,
    };
}
