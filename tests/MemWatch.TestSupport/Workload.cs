using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace MemWatch.TestSupport;

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

    private int _pid;

    /// <summary>The workload's PID (not that of the shell it runs under).</summary>
    public int Pid => _pid;

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
    /// <remarks>
    /// The workload runs as a grandchild, under <c>/bin/sh</c>, not as a child of the test process. Tests ptrace
    /// workloads from this process, and .NET's SIGCHLD handling calls waitpid on the children it started, which can
    /// consume the ptrace-stop notifications the engine waits for. A tracer that is not the parent avoids that, as
    /// MemWatch in production never traces its own children.
    /// </remarks>
    public static Workload Start(
        string source,
        string arguments = "",
        IDictionary<string, string>? environment = null,
        string extraFlags = "",
        TimeSpan? readyTimeout = null)
    {
        string exe = Build(source, extraFlags);
        return StartExecutable($"\"{exe}\"", arguments, environment, readyTimeout, source);
    }

    /// <summary>Starts an already built workload (a shell command word, quoted as needed) and waits for READY.</summary>
    /// <param name="command">What the shell runs, e.g. <c>"/path/exe"</c> or <c>dotnet "/path/app.dll"</c>.</param>
    /// <param name="arguments">Appended to <paramref name="command"/>.</param>
    /// <param name="environment">Extra environment variables.</param>
    /// <param name="readyTimeout">How long to wait for READY (60 s by default).</param>
    /// <param name="label">Names the workload in error messages.</param>
    public static Workload StartExecutable(
        string command,
        string arguments = "",
        IDictionary<string, string>? environment = null,
        TimeSpan? readyTimeout = null,
        string? label = null)
    {
        string source = label ?? command;

        // A non-interactive shell gives an asynchronous command /dev/null as stdin (dash does so before the
        // command's own redirections): keep the pipe on fd 3 and hand it back explicitly.
        string script = $"exec 3<&0; {command} {arguments} <&3 3<&- & echo \"PID $!\"; wait $!";
        var psi = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        if (environment is not null)
        {
            foreach ((string k, string v) in environment)
            {
                psi.Environment[k] = v;
            }
        }

        Process shell = Process.Start(psi)!;
        var w = new Workload(shell);
        TimeSpan timeout = readyTimeout ?? TimeSpan.FromSeconds(60);

        // The shell's PID line and the workload's READY line race for the pipe: take both in either order.
        string? ready = null;
        while (w._pid == 0 || ready is null)
        {
            string? line = w.ReadLine(timeout);
            if (line is null)
            {
                w.Dispose();
                throw new InvalidOperationException($"workload {source} did not become ready (pid {w._pid}, ready '{ready}')");
            }

            if (line.StartsWith("PID ", StringComparison.Ordinal) && w._pid == 0)
            {
                w._pid = int.Parse(line.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("READY", StringComparison.Ordinal))
            {
                ready = line;
            }
            else
            {
                w.Dispose();
                throw new InvalidOperationException($"workload {source} printed '{line}' before READY");
            }
        }

        w.ReadyLine = ready;
        return w;
    }

    /// <summary>True once the workload has exited (its shell exits with it).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The workload's exit status as a shell reports it: the exit code, or 128 + the signal that killed it.</summary>
    public int ExitCode => _process.ExitCode;

    public bool WaitForExit(int milliseconds) => _process.WaitForExit(milliseconds);

    /// <summary>
    /// Makes <paramref name="pid"/>, a child of the process the shell started (a launcher that waits for it), the
    /// workload: <see cref="Pid"/>, <see cref="Kill"/> and <see cref="Dispose"/> mean it from now on.
    /// </summary>
    internal void Rebind(int pid) => _pid = pid;

    /// <summary>Sends SIGKILL to the workload and waits until it is reaped.</summary>
    public void Kill()
    {
        try
        {
            using Process target = Process.GetProcessById(_pid);
            target.Kill();
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
            // Exited between the lookup and the kill.
        }

        _process.WaitForExit(10_000);
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
        if (_pid != 0 && !_process.HasExited)
        {
            Kill();
        }

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
