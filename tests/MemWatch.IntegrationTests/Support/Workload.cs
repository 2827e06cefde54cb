using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace MemWatch.IntegrationTests.Support;

/// <summary>
/// A real process built from a C or C++ source in tests/workloads with gcc at test time.
/// </summary>
/// <remarks>
/// Protocol every workload follows: after setting up it prints one line starting with <c>READY</c>;
/// then it reads commands from stdin, one per line, and answers each with exactly one line
/// (<c>OK ...</c> or <c>ERR ...</c>). EOF on stdin makes it exit. Dispose kills it.
/// </remarks>
public sealed class Workload : IDisposable
{
    private static readonly SemaphoreSlim s_buildLock = new(1, 1);
    private readonly Process _process;

    private Workload(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public Process Process => _process;

    /// <summary>The READY line the workload printed (workloads may append figures to it).</summary>
    public string ReadyLine { get; private set; } = "";

    public static string SourceDirectory => Path.Combine(AppContext.BaseDirectory, "workloads");

    /// <summary>
    /// Compiles <paramref name="source"/> (a file name in tests/workloads) once per distinct source and flags,
    /// and returns the executable path. C++ sources (.cc, .cpp) use g++.
    /// </summary>
    public static string Build(string source, string extraFlags = "")
    {
        string srcPath = Path.Combine(SourceDirectory, source);
        if (!File.Exists(srcPath))
        {
            throw new FileNotFoundException($"workload source not found: {srcPath}");
        }

        string hash = Convert.ToHexString(SHA256.HashData(
            Encoding.UTF8.GetBytes(File.ReadAllText(srcPath) + "\0" + extraFlags)))[..16];
        string dir = Path.Combine(Path.GetTempPath(), "memwatch-workloads", hash);
        string exe = Path.Combine(dir, Path.GetFileNameWithoutExtension(source));
        s_buildLock.Wait();
        try
        {
            if (File.Exists(exe))
            {
                return exe;
            }

            Directory.CreateDirectory(dir);
            bool cxx = source.EndsWith(".cc", StringComparison.Ordinal) || source.EndsWith(".cpp", StringComparison.Ordinal);
            string compiler = cxx ? "g++" : "gcc";
            string args = $"-O1 -g -pthread -Wall -o \"{exe}.tmp\" \"{srcPath}\" {extraFlags}";
            var psi = new ProcessStartInfo(compiler, args)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            using Process cc = Process.Start(psi)!;
            string stderr = cc.StandardError.ReadToEnd();
            cc.WaitForExit();
            if (cc.ExitCode != 0)
            {
                throw new InvalidOperationException($"{compiler} {args} failed:\n{stderr}");
            }

            File.Move(exe + ".tmp", exe, overwrite: true);
            return exe;
        }
        finally
        {
            s_buildLock.Release();
        }
    }

    /// <summary>Builds and starts a workload, waiting for its READY line.</summary>
    public static Workload Start(
        string source,
        string arguments = "",
        IDictionary<string, string>? environment = null,
        string extraFlags = "",
        TimeSpan? readyTimeout = null)
    {
        string exe = Build(source, extraFlags);
        var psi = new ProcessStartInfo(exe, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        if (environment is not null)
        {
            foreach ((string k, string v) in environment)
            {
                psi.Environment[k] = v;
            }
        }

        Process p = Process.Start(psi)!;
        var w = new Workload(p);
        string? ready = w.ReadLine(readyTimeout ?? TimeSpan.FromSeconds(60));
        if (ready is null || !ready.StartsWith("READY", StringComparison.Ordinal))
        {
            w.Dispose();
            throw new InvalidOperationException($"workload {source} did not become ready: '{ready}'");
        }

        w.ReadyLine = ready;
        return w;
    }

    /// <summary>Sends one command line and returns the workload's one-line answer.</summary>
    public string Send(string command, TimeSpan? timeout = null)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
        string? line = ReadLine(timeout ?? TimeSpan.FromSeconds(60));
        if (line is null)
        {
            throw new InvalidOperationException($"workload {Pid} gave no answer to '{command}'");
        }

        if (line.StartsWith("ERR", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"workload {Pid} answered '{line}' to '{command}'");
        }

        return line;
    }

    private string? ReadLine(TimeSpan timeout)
    {
        Task<string?> read = _process.StandardOutput.ReadLineAsync();
        return read.Wait(timeout) ? read.Result : null;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already exited and reaped.
        }

        _process.Dispose();
    }
}
