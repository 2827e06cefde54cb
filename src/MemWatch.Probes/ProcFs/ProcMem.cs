using System.Diagnostics.CodeAnalysis;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// Reads another process's memory through <c>/proc/PID/mem</c> (proc(5)): pread at offset = address on one open handle.
/// Needs ptrace-attach access (same user and Yama scope, or CAP_SYS_PTRACE), but does not stop the process, so what it
/// reads races with the process's own writes.
/// </summary>
internal sealed class ProcMem : IProcessMemory, IDisposable
{
    private readonly SafeFileHandle _handle;

    private ProcMem(SafeFileHandle handle)
    {
        _handle = handle;
    }

    /// <summary>Opens the process's memory; false when the process is gone or access is denied (EACCES/EPERM).</summary>
    public static bool TryOpen(ProcFileSystem fs, int pid, [NotNullWhen(true)] out ProcMem? memory)
    {
        try
        {
            memory = new ProcMem(File.OpenHandle(fs.ProcessPath(pid, "mem"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            return true;
        }
        catch (Exception e) when (e is UnauthorizedAccessException || FileBuffer.IsGone(e))
        {
            memory = null;
            return false;
        }
    }

    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (address > long.MaxValue - (ulong)destination.Length)
        {
            return false;
        }

        try
        {
            return RandomAccess.Read(_handle, destination, (long)address) == destination.Length;
        }
        catch (IOException)
        {
            // EIO: the range is not mapped (any more): the mapping changed since smaps was read.
            return false;
        }
    }

    public void Dispose() => _handle.Dispose();
}
