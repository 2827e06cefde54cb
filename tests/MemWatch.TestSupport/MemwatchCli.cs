using System.Diagnostics;

namespace MemWatch.TestSupport;

/// <summary>
/// Runs the real memwatch executable as a child process: the natively compiled one that ships (scripts/publish), named
/// by TEST_MEMWATCH_EXECUTABLE (scripts/test publishes once and sets it), else published here once per test run into
/// .build/test-publish. Tests of the CLI and the daemon thereby run what users run, trimming included.
/// </summary>
public static class MemwatchCli
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    private static readonly Lazy<string> s_executable = new(FindOrPublish, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string ExecutablePath => s_executable.Value;

    /// <param name="args">memwatch arguments.</param>
    /// <param name="prefix">A command and arguments to run memwatch under (e.g. setpriv to drop privileges).</param>
    public static Result Run(IEnumerable<string> args, TimeSpan? timeout = null, IEnumerable<string>? prefix = null)
    {
        Process p = Start(args, prefix);
        return Wait(p, timeout ?? TimeSpan.FromSeconds(120));
    }

    public static Process Start(IEnumerable<string> args, IEnumerable<string>? prefix = null) =>
        StartCommand([.. prefix ?? [], ExecutablePath, .. args]);

    private static Process StartCommand(List<string> command)
    {
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in command.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        return Process.Start(psi)!;
    }

    private static string FindOrPublish()
    {
        string? named = Environment.GetEnvironmentVariable("TEST_MEMWATCH_EXECUTABLE");
        if (!string.IsNullOrEmpty(named))
        {
            return File.Exists(named) ? named : throw new FileNotFoundException($"TEST_MEMWATCH_EXECUTABLE names {named}, which does not exist");
        }

        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "MemWatch.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd('/')) ?? throw new InvalidOperationException(
                "TEST_MEMWATCH_EXECUTABLE is not set and no MemWatch.sln above the tests to publish from");
        }

        // The integration and daemon test projects may run at once: one publishes, the other waits on the lock.
        string output = Path.Combine(root, ".build", "test-publish");
        Directory.CreateDirectory(output);
        using FileStream lockFile = Lock(Path.Combine(output, ".lock"), TimeSpan.FromMinutes(15));
        Result r = Wait(StartCommand([Path.Combine(root, "scripts", "publish"), output]), TimeSpan.FromMinutes(10));
        return r.ExitCode == 0
            ? Path.Combine(output, "memwatch")
            : throw new InvalidOperationException($"scripts/publish failed ({r.ExitCode}):\n{r.StandardError}");
    }

    // FileShare.None is an flock(LOCK_EX | LOCK_NB) on Linux: it fails at once rather than waiting.
    private static FileStream Lock(string path, TimeSpan patience)
    {
        DateTime giveUp = DateTime.UtcNow + patience;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < giveUp)
            {
                Thread.Sleep(1000);
            }
        }
    }

    public static Result Wait(Process p, TimeSpan timeout)
    {
        using (p)
        {
            Task<string> stdout = p.StandardOutput.ReadToEndAsync();
            Task<string> stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeout))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"memwatch did not finish within {timeout}");
            }

            return new Result(p.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
