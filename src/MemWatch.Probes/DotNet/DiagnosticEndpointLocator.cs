using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using MemWatch.Probes.Files;
using MemWatch.Probes.ProcFs;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.DotNet;

/// <summary>
/// Finds the diagnostic IPC socket of a .NET process, from the caller's side of any container boundary: the runtime
/// binds <c>$TMPDIR/dotnet-diagnostic-{pid}-{key}-socket</c> (TMPDIR from its environment, else /tmp) in its own mount
/// namespace with its own namespaced pid, so the socket is looked for under <c>/proc/PID/root</c>, named with the
/// innermost <c>NSpid</c>. Not thread safe (one buffer); create one per thread.
/// </summary>
/// <remarks>
/// <para>The key is the process start time in clock ticks since boot (<c>/proc/PID/stat</c> field 22), which
/// tells the live socket from a stale one a dead process with a reused pid left behind. When no candidate has
/// that key (the runtime started in another time namespace), the newest candidate is taken.</para>
/// <para>The chosen socket is confirmed bound in the target's network namespace through <c>/proc/PID/net/unix</c>,
/// which lists bound paths as the target named them: a stale socket file is not there. DiagnosticsClient's own
/// <c>GetPublishedProcesses</c> is not used: it looks only in the caller's own temporary directory.</para>
/// </remarks>
public sealed class DiagnosticEndpointLocator
{
    private const string Prefix = "dotnet-diagnostic-";
    private const string Suffix = "-socket";
    private readonly ProcFileSystem _fs;
    private readonly FileBuffer _buffer = new(4096);

    public DiagnosticEndpointLocator(ProcFileSystem? fs = null)
    {
        _fs = fs ?? ProcFileSystem.Default;
    }

    /// <summary>The endpoint of <paramref name="pid"/>'s runtime; false when the process is gone or has no diagnostic
    /// socket (not .NET, or started with <c>DOTNET_EnableDiagnostics=0</c>).</summary>
    /// <exception cref="UnauthorizedAccessException">The caller may not look into the process's root (needs ptrace access).</exception>
    public bool TryLocate(int pid, [NotNullWhen(true)] out DiagnosticEndpoint? endpoint)
    {
        endpoint = null;
        if (!ProcStatus.TryRead(_fs, pid, _buffer, out ProcStatus? status) || !ProcStat.TryRead(_fs, pid, _buffer, out ProcStat? stat))
        {
            return false;
        }

        int nsPid = status.InnermostNSpid ?? pid;
        string tempDir = TempDirectory(pid);
        string rootPath = _fs.ProcessPath(pid, "root");
        string directory = rootPath + tempDir;
        if (!TryPickCandidate(rootPath, tempDir, nsPid, stat.StartTimeTicks, out string? name, out ulong key))
        {
            return false;
        }

        bool? bound = IsBound(pid, name);
        if (bound == false)
        {
            return false;
        }

        endpoint = new DiagnosticEndpoint(pid, nsPid, Path.Combine(directory, name), key, bound == true)
        {
            RootPath = rootPath,
            PathInRoot = tempDir + "/" + name,
            OwnerUids = (status.RealUid, status.EffectiveUid),
        };
        return true;
    }

    /// <summary>Parses <c>dotnet-diagnostic-{pid}-{key}-socket</c>.</summary>
    internal static bool TryParseSocketName(ReadOnlySpan<char> name, out int pid, out ulong key)
    {
        pid = 0;
        key = 0;
        if (!name.StartsWith(Prefix, StringComparison.Ordinal) || !name.EndsWith(Suffix, StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> middle = name[Prefix.Length..^Suffix.Length];
        int dash = middle.IndexOf('-');
        return dash > 0
            && int.TryParse(middle[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out pid)
            && ulong.TryParse(middle[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out key)
            && pid > 0;
    }

    /// <remarks>The directory is opened beneath the process's root without following links (<see cref="ProcessRoot"/>) and
    /// listed through the open descriptor: a TMPDIR that is a link planted towards another directory is not listed.</remarks>
    private static bool TryPickCandidate(string rootPath, string tempDir, int nsPid, ulong startTime, [NotNullWhen(true)] out string? name, out ulong key)
    {
        name = null;
        key = 0;
        try
        {
            using ProcessRoot root = ProcessRoot.Open(rootPath);
            using SafeFileHandle directory = root.OpenDirectory(tempDir);
            IEnumerable<string> files = Directory.EnumerateFileSystemEntries(
                CheckedFile.DescriptorPath(directory), $"{Prefix}{nsPid.ToString(CultureInfo.InvariantCulture)}-*{Suffix}");
            foreach (string path in files)
            {
                string file = Path.GetFileName(path);
                if (!TryParseSocketName(file, out int filePid, out ulong fileKey) || filePid != nsPid)
                {
                    continue;
                }

                if (fileKey == startTime)
                {
                    name = file;
                    key = fileKey;
                    return true;
                }

                if (name is null || fileKey > key)
                {
                    name = file;
                    key = fileKey;
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (UnsafeFileException)
        {
            // TMPDIR through a symbolic link, or not a directory: nothing there is connected to.
            return false;
        }
        catch (IOException)
        {
            // The process exited while its root was listed (ESRCH/ENOENT through /proc/PID/root).
            return false;
        }

        return name is not null;
    }

    /// <summary>TMPDIR as the runtime saw it at start-up; /tmp when unset, empty or unreadable.</summary>
    private string TempDirectory(int pid)
    {
        try
        {
            if (ProcEnviron.TryRead(_fs, pid, _buffer, out ProcEnviron? environ)
                && environ.TryGetValue("TMPDIR", out string? tmp) && tmp.Length > 0 && tmp[0] == '/')
            {
                return tmp.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : "/tmp";
            }
        }
        catch (UnauthorizedAccessException)
        {
            // Without access to environ the default is the best guess; the root listing decides.
        }

        return "/tmp";
    }

    /// <summary>True when a socket of that file name is bound in the target's network namespace; null when unknown.</summary>
    private bool? IsBound(int pid, string name)
    {
        try
        {
            if (!_buffer.TryLoad(_fs.ProcessPath(pid, "net/unix")))
            {
                return null;
            }
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        Span<byte> suffix = stackalloc byte[name.Length + 1];
        suffix[0] = (byte)'/';
        Encoding.ASCII.GetBytes(name, suffix[1..]);
        ReadOnlySpan<byte> text = _buffer.Span;
        while (!text.IsEmpty)
        {
            int nl = text.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = nl < 0 ? text : text[..nl];
            text = nl < 0 ? default : text[(nl + 1)..];
            if (line.TrimEnd((byte)' ').EndsWith(suffix))
            {
                return true;
            }
        }

        return false;
    }
}
