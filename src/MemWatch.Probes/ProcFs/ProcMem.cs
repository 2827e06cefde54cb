using System.Diagnostics.CodeAnalysis;
using System.Globalization;
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

    // The PID as process_vm_readv knows it, or 0 when batches go through /proc/PID/mem one range at a time.
    private int _vmPid;

    private ProcMem(SafeFileHandle handle, int vmPid)
    {
        _handle = handle;
        _vmPid = vmPid;
    }

    /// <summary>Opens the process's memory; false when the process is gone or access is denied (EACCES/EPERM).</summary>
    public static bool TryOpen(ProcFileSystem fs, int pid, [NotNullWhen(true)] out ProcMem? memory)
    {
        try
        {
            memory = new ProcMem(
                File.OpenHandle(fs.ProcessPath(pid, "mem"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite),
                NumbersLikeThisProcess(fs) ? pid : 0);
            return true;
        }
        catch (Exception e) when (e is UnauthorizedAccessException || FileBuffer.IsGone(e))
        {
            memory = null;
            return false;
        }
    }

    /// <summary>
    /// Whether <paramref name="fs"/> numbers processes as this process's PID namespace does (its <c>self</c> is this
    /// process), as process_vm_readv does: a host's /proc mounted in a container does not.
    /// </summary>
    private static bool NumbersLikeThisProcess(ProcFileSystem fs)
    {
        try
        {
            return new FileInfo(fs.SystemPath("self")).LinkTarget == Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
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

    /// <summary>
    /// Ranges by the thousand in one process_vm_readv each (the same ptrace-attach check as opening this file) instead of
    /// one pread per range; an unreadable range is skipped and the rest read on. Falls back to pread when the call is
    /// refused outright (seccomp, ENOSYS, the process gone).
    /// </summary>
    /// <remarks>
    /// process_vm_readv names the process by PID, which the kernel may give to another process once this one exits;
    /// this handle stays bound to the memory it was opened on and reads nothing once that process exits or execs. So
    /// after each call one range it read is read again through the handle: when that fails the batch may be another
    /// process's memory and is read through the handle instead (where nothing is read from a process that is gone).
    /// </remarks>
    public void ReadRanges(ReadOnlySpan<ulong> addresses, int size, Span<byte> destination, Span<bool> read)
    {
        Span<byte> check = stackalloc byte[1];
        int done = 0;
        while (_vmPid > 0 && done < addresses.Length)
        {
            int asked = Math.Min(addresses.Length - done, Interop.Libc.MaxIoVecs);
            int got = Interop.Libc.ReadProcessMemoryRanges(_vmPid, addresses.Slice(done, asked), size, destination.Slice(done * size, asked * size));
            if (got == -Interop.Libc.EFAULT)
            {
                // The first range is not mapped (any more): skip it.
                read[done++] = false;
                continue;
            }

            if (got < 0 || !TryRead(addresses[done], check))
            {
                _vmPid = 0;
                break;
            }

            read.Slice(done, got).Fill(true);
            done += got;
            if (got < asked)
            {
                // The call stopped at a range it could not read.
                read[done++] = false;
            }
        }

        for (int i = done; i < addresses.Length; i++)
        {
            read[i] = TryRead(addresses[i], destination.Slice(i * size, size));
        }
    }

    public void Dispose() => _handle.Dispose();
}
